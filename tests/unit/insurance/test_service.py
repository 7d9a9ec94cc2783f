"""Policies, their scope, the idempotent import, repricing from the risk grade and the coverage KPI of
elevators in public places, on the hand-made city of tests/unit/insurance/city.py."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.insurance import service
from liftwatch.insurance.domain import PolicyStatus
from liftwatch.insurance.premium import PremiumSettings
from liftwatch.risk import service as risk
from liftwatch.risk.score import RiskSettings
from tests.unit.insurance.city import ADMIN, YEAR, actor, insurance_city, policy

DAY = date(2026, 11, 23)


@pytest.fixture
def city(session: Session, clock: FixedClock) -> Session:
    insurance_city(session, clock)
    return session


def test_an_insurer_sees_only_its_own_policies(city: Session, clock: FixedClock) -> None:
    in_a = actor(city, Role.INSURER, "IN-A")
    in_b = actor(city, Role.INSURER, "IN-B")
    mine = service.list_policies(city, in_a, DAY)
    assert sorted(p.policy_number for p in mine) == ["P-A1", "P-A2", "P-B3"]
    assert {p.policy_number: service.status_of(p, DAY) for p in service.list_policies(city, in_b, DAY)} == {
        "Q-B5": PolicyStatus.VALID,
        "Q-B3": PolicyStatus.CANCELLED,
    }
    assert [p.policy_number for p in service.list_policies(city, in_a, DAY, [PolicyStatus.EXPIRED])] == [
        "P-B3"
    ]
    other = service.list_policies(city, in_b, DAY)[0]
    with pytest.raises(NotFound):
        service.get_policy(city, in_a, other.id)
    with pytest.raises(NotFound):
        service.cancel_policy(city, in_a, other.id, "误操作", clock)
    # an elevator none of its policies covers is not found; one it insures shows its risk
    with pytest.raises(NotFound):
        service.elevator_view(city, in_a, "11SHB000005")
    with pytest.raises(NotFound):
        service.elevator_view(city, in_a, "11SHB000004")
    view = service.elevator_view(city, in_a, "11SHB000003")  # its expired policy
    assert [p.policy_number for p in view.policies] == ["P-B3"]
    assert service.elevator_view(city, ADMIN, "11SHB000004").policies == []  # admin: exists, uninsured
    with pytest.raises(NotFound):
        service.elevator_view(city, ADMIN, "NOPE")


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.MAINTENANCE, Role.USE_UNIT, Role.INSPECTOR])
def test_other_roles_are_refused_policies(city: Session, clock: FixedClock, role: Role) -> None:
    who = actor(city, role, {Role.MAINTENANCE: "MU-A", Role.USE_UNIT: "UU-B"}.get(role))
    with pytest.raises(Forbidden):
        service.list_policies(city, who, DAY)
    with pytest.raises(Forbidden):
        service.record_policy(city, who, policy("11SHA000002", "X-1", *YEAR, insurer="IN-A"), clock)
    with pytest.raises(Forbidden):
        service.reprice(city, who, clock, "2026-Q4")
    if role is not Role.REGULATOR:
        with pytest.raises(Forbidden):
            service.coverage(city, who, DAY)
    with pytest.raises(Forbidden):
        service.coverage(city, actor(city, Role.INSURER, "IN-A"), DAY)


def test_recording_a_policy_checks_its_fields_and_insurer(city: Session, clock: FixedClock) -> None:
    in_a = actor(city, Role.INSURER, "IN-A")
    bad = service.PolicyData("NOPE", " ", date(2026, 5, 1), date(2026, 4, 1), 300, 200, -1)
    with pytest.raises(InvalidInput) as err:
        service.record_policy(city, in_a, bad, clock)
    assert [e.field for e in err.value.errors] == [
        "registration_code",
        "limit_per_accident_fen",
        "end_date",
        "premium_fen",
        "policy_number",
    ]
    with pytest.raises(InvalidInput, match="insurer: an insurer records its own"):
        service.record_policy(city, in_a, policy("11SHA000002", "X-1", *YEAR, insurer="IN-B"), clock)
    with pytest.raises(InvalidInput, match="insurer: name the insurer"):
        service.record_policy(city, ADMIN, policy("11SHA000002", "X-1", *YEAR), clock)
    with pytest.raises(InvalidInput, match="expected insurer"):
        service.record_policy(city, ADMIN, policy("11SHA000002", "X-1", *YEAR, insurer="MU-A"), clock)
    # the same number for another elevator is refused; for the same one it updates, then changes nothing
    with pytest.raises(InvalidInput, match="registration_code: policy 'P-A2' covers elevator"):
        service.record_policy(city, in_a, policy("11SHA000001", "P-A2", *YEAR), clock)
    again = service.record_policy(city, in_a, policy("11SHA000002", "P-A2", *YEAR, premium=130_000), clock)
    assert again.outcome is service.Outcome.UPDATED and again.policy.premium_fen == 130_000
    same = service.record_policy(city, in_a, policy("11SHA000002", "P-A2", *YEAR, premium=130_000), clock)
    assert same.outcome is service.Outcome.UNCHANGED
    # the insured is the elevator's use unit; a number is unique per insurer, not across insurers
    b = actor(city, Role.INSURER, "IN-B")
    other = service.record_policy(city, b, policy("11SHA000002", "P-A2", *YEAR), clock)
    assert other.outcome is service.Outcome.CREATED and other.policy.id != again.policy.id
    assert service.insurer_codes(city, [other.policy])[other.policy.insured_unit_id or 0] == "UU-A"


def test_changing_and_cancelling_a_policy(city: Session, clock: FixedClock) -> None:
    in_a = actor(city, Role.INSURER, "IN-A")
    p = next(p for p in service.list_policies(city, in_a, DAY) if p.policy_number == "P-A2")
    row = service.update_policy(city, in_a, p.id, service.PolicyChange(end_date=date(2026, 11, 30)), clock)
    assert row.end_date == date(2026, 11, 30)
    with pytest.raises(InvalidInput, match="end_date"):
        service.update_policy(city, in_a, p.id, service.PolicyChange(end_date=date(2025, 1, 1)), clock)
    with pytest.raises(InvalidInput, match="reason"):
        service.cancel_policy(city, in_a, p.id, "  ", clock)
    first = service.cancel_policy(city, in_a, p.id, "退保", clock).cancelled_at
    assert service.cancel_policy(city, in_a, p.id, "再次", clock).cancelled_at == first  # no change
    assert service.status_of(row, DAY) is PolicyStatus.CANCELLED
    with pytest.raises(Conflict):
        service.update_policy(city, in_a, p.id, service.PolicyChange(premium_fen=1), clock)


def test_an_import_is_all_or_nothing_and_idempotent(city: Session, clock: FixedClock) -> None:
    in_b = actor(city, Role.INSURER, "IN-B")
    rows = [
        policy("11SHA000001", "Q-A1", *YEAR),
        policy("11SHB000004", "Q-B4", *YEAR),
        policy("11SHB000005", "Q-B5", date(2026, 6, 1), date(2027, 5, 31)),  # recorded already, unchanged
    ]
    broken = [*rows, policy("NOPE", "Q-X", *YEAR), policy("11SHA000002", "Q-A1", *YEAR)]
    with pytest.raises(InvalidInput) as err:
        service.import_policies(city, in_b, broken, clock)
    assert [(e.field, e.message) for e in err.value.errors] == [
        ("policies.3.registration_code", "no elevator 'NOPE'"),
        ("policies.4.policy_number", "repeats row 0"),
    ]
    assert len(service.list_policies(city, in_b, DAY)) == 2  # nothing written
    first = service.import_policies(city, in_b, rows, clock)
    assert (first.created, first.updated, first.unchanged) == (["Q-A1", "Q-B4"], [], ["Q-B5"])
    city.commit()
    second = service.import_policies(city, in_b, rows, clock)
    assert (second.created, second.updated, second.unchanged, second.rows) == (
        [],
        [],
        ["Q-A1", "Q-B4", "Q-B5"],
        3,
    )
    assert len(service.list_policies(city, in_b, DAY)) == 4


def test_repricing_follows_the_risk_grade_with_its_reasons(city: Session, clock: FixedClock) -> None:
    in_a = actor(city, Role.INSURER, "IN-A")
    # before any risk score: the ungraded factor; the expired P-B3 lies outside 2026-Q4
    done = service.reprice(city, in_a, clock, "2026-Q4")
    assert (done.period, done.policies, dict(done.by_grade)) == ("2026-Q4", 2, {"-": 2})
    risk.recompute(city, clock, Settings(), RiskSettings())
    done = service.reprice(city, in_a, clock, "2026-q4", PremiumSettings())
    assert done.policies == 2  # replaced, not added
    rows = service.factors_of_period(city, in_a, "2026-Q4")
    assert [p.policy_number for _, p in rows] == ["P-A1", "P-A2"]
    factors = {"A": 0.85, "B": 1.0, "C": 1.2, "D": 1.5}
    for row, p in rows:
        stored = risk.stored_score(city, p.registration_code)
        assert stored is not None and (row.grade, row.score) == (stored.grade, stored.score)
        assert row.factor == factors[stored.grade]
        assert row.adjusted_premium_fen == round(p.premium_fen * row.factor)
        positive = sorted((c["points"] for c in stored.contributions if c["points"] > 0), reverse=True)
        assert [t["points"] for t in row.top] == positive[:3]
    # the other insurer's policy is neither repriced nor shown; the admin reprices every insurer's
    assert service.factors_of_period(city, actor(city, Role.INSURER, "IN-B"), "2026-Q4") == []
    assert service.reprice(city, ADMIN, clock, "2026-Q4").policies == 3  # Q-B5 too; Q-B3 cancelled
    assert len(service.factors_of_period(city, ADMIN, "2026-Q4")) == 3
    latest = service.latest_factors(city, [p.id for _, p in rows])
    assert {r.period for r in latest.values()} == {"2026-Q4"}
    with pytest.raises(InvalidInput, match="period"):
        service.reprice(city, ADMIN, clock, "2026-Q5")


def test_coverage_of_elevators_in_public_places(city: Session) -> None:
    regulator = actor(city, Role.REGULATOR)
    cov = service.coverage(city, regulator, DAY)
    # public places: 11SHA000002 (office, insured), 11SHB000003 (mall: expired and cancelled policies),
    # 11SHB000005 (hotel, insured); the residential lifts do not count, insured or not
    by = {r.district: (r.public, r.insured, r.share) for r in cov.districts}
    assert by == {"徐汇区": (2, 1, 0.5), "静安区": (1, 1, 1.0)}
    assert (cov.total.public, cov.total.insured) == (3, 2)
    assert [u.registration_code for u in cov.uninsured] == ["11SHB000003"] and cov.uninsured_total == 1
    assert cov.uninsured[0].place_type == "mall" and cov.uninsured[0].district == "徐汇区"
    xuhui = service.coverage(city, regulator, DAY, district="徐汇区")
    assert [(r.district, r.public, r.insured) for r in xuhui.districts] == [("徐汇区", 2, 1)]
    # a day later than P-A2's last day: 静安区 falls to 0 of 1
    later = service.coverage(city, regulator, date(2027, 1, 1))
    assert {r.district: r.insured for r in later.districts} == {"徐汇区": 1, "静安区": 0}


def test_the_reprice_command_prints_the_policies_per_grade(sqlite_engine: Engine, clock: FixedClock) -> None:
    from typer.testing import CliRunner

    from liftwatch.cli import app as cli

    with Session(sqlite_engine) as s:
        insurance_city(s, clock)
        risk.recompute(s, clock, Settings(), RiskSettings())
        s.commit()
    url = sqlite_engine.url.render_as_string(hide_password=False)
    # every insurer's policies in force during the quarter (P-A1, P-A2, Q-B5)
    result = CliRunner().invoke(cli, ["insurance", "reprice", "--period", "2026-Q4", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2026-Q4: 3 policies repriced: ")
    with Session(sqlite_engine) as s:
        assert len(service.factors_of_period(s, ADMIN, "2026-Q4")) == 3
    bad = CliRunner().invoke(cli, ["insurance", "reprice", "--period", "soon", "--database-url", url])
    assert bad.exit_code != 0 and "period" in bad.output
