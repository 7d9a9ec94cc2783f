"""People through their service and the API, on SQLite and PostgreSQL. Acceptance (issue 16, item 6): a
worker whose certificate expired cannot be assigned a work order, sign a maintenance record or become a
crew's login: 409 with a message naming the certificate and the day it expired. Also the certificate's
rules, scope, expiry warnings, training, and the use units missing their yearly drill."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import create_user
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.maintenance import service as maintenance
from liftwatch.maintenance.workflow import WorkOrderSource
from liftwatch.people import service
from liftwatch.people.domain import Category, CertificateState, Scenario
from liftwatch.rescue import service as rescue
from tests.factories import PASSWORD, auth, km_north
from tests.unit.maintenance.workorder_city import actor, people_fixture  # noqa: F401 - fixture

SETTINGS = Settings(timezone="Asia/Shanghai")
TODAY = date(2026, 11, 23)  # tests.conftest.NOW in Shanghai


def _hire(session: Session, clock: FixedClock, username: str, expires: date | None) -> Actor:
    """A worker of MU-A; with a certificate valid from 2022-11-01 to ``expires`` (None: none)."""
    create_user(
        session,
        SYSTEM_ACTOR,
        UserCreate(username=username, password=PASSWORD, role=Role.MAINTENANCE, unit="MU-A"),
        clock,
    )
    if expires is not None:
        new = service.NewCertificate(
            f"TS-{username}", Category.ELEVATOR_REPAIR, "王师傅", "MU-A", date(2022, 11, 1), expires, username
        )
        service.record_certificate(session, SYSTEM_ACTOR, new, clock)
    session.commit()
    return actor(session, username, Role.MAINTENANCE, "MU-A")


def _order(session: Session, clock: FixedClock, ref: str) -> int:
    out = maintenance.open_corrective(
        session, SYSTEM_ACTOR, "11SHA000001", WorkOrderSource.FAULT, ref, "门锁故障", clock, SETTINGS
    )
    session.commit()
    return out.work_order.id


def test_an_expired_certificate_cannot_be_assigned_nor_sign_over_the_api(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    _hire(session, clock, "wang", date(2026, 11, 22))  # expired yesterday
    _hire(session, clock, "zhao", None)  # none on file
    wo = _order(session, clock, "F-cert-1")
    headers = auth(client, Role.MAINTENANCE)  # maint_a, who holds a valid certificate
    base = f"/api/v1/maintenance/work-orders/{wo}"

    r = client.post(f"{base}/assign", json={"assignee": "wang"}, headers=headers)
    assert r.status_code == 409
    assert "certificate TS-WANG expired on 2026-11-22" in r.json()["detail"]
    r = client.post(f"{base}/assign", json={"assignee": "zhao"}, headers=headers)
    assert r.status_code == 409 and "none on file" in r.json()["detail"]
    assert maintenance.get_work_order(session, SYSTEM_ACTOR, wo).assignee == ""

    # a worker whose certificate runs out after being assigned cannot sign
    lin = _hire(session, clock, "lin", date(2026, 11, 30))
    assert client.post(f"{base}/assign", json={"assignee": "lin"}, headers=headers).status_code == 200
    maintenance.check_in(session, lin, wo, 31.23, 121.47, "100001", clock)
    maintenance.check_out(session, lin, wo, 31.23, 121.47, clock)
    session.commit()
    later = FixedClock(clock.now() + timedelta(days=8))  # 2026-12-01: expired the day before
    with pytest.raises(Conflict, match="certificate TS-LIN expired on 2026-11-30"):
        maintenance.sign(session, lin, wo, later)
    session.rollback()
    # on its last valid day it still signs
    record = maintenance.sign(session, lin, wo, FixedClock(clock.now() + timedelta(days=7)))
    assert record.worker_signed_at is not None


def test_a_revoked_certificate_and_a_crews_login(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    _hire(session, clock, "chen", date(2028, 1, 1))
    cert = service.valid_certificate(session, "chen", TODAY)
    assert cert is not None
    service.revoke_certificate(session, people["regulator"], cert.id, "证书被吊销", clock)
    session.commit()
    with pytest.raises(Conflict, match="revoked"):
        rescue.add_crew(session, SYSTEM_ACTOR, "A9", "MU-A", "九组", km_north(1), clock, username="chen")
    session.rollback()
    _hire(session, clock, "sun", date(2028, 1, 1))
    crew = rescue.add_crew(session, SYSTEM_ACTOR, "A9", "MU-A", "九组", km_north(1), clock, username="sun")
    assert crew.username == "sun"


def test_certificate_rules_scope_and_expiry_warnings(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    maint_a, maint_b, owner_b = people["maint_a"], people["maint_b"], people["owner_b"]
    new = service.NewCertificate(
        "ts-a-2", Category.ELEVATOR_REPAIR, "周师傅", "MU-A", date(2023, 1, 1), date(2027, 1, 10)
    )
    row = service.record_certificate(session, maint_a, new, clock)
    assert row.number == "TS-A-2" and row.username == ""
    with pytest.raises(Conflict, match="on file"):
        service.record_certificate(session, maint_a, new, clock)
    with pytest.raises(NotFound):  # another unit's worker
        service.record_certificate(session, maint_b, new, clock)
    with pytest.raises(InvalidInput, match="is not after the issue day"):
        service.record_certificate(
            session,
            maint_a,
            service.NewCertificate(
                "X", Category.ELEVATOR_REPAIR, "x", "MU-A", date(2026, 1, 1), date(2025, 1, 1)
            ),
            clock,
        )
    with pytest.raises(InvalidInput, match="not staff"):
        service.record_certificate(
            session,
            maint_a,
            service.NewCertificate(
                "Y", Category.ELEVATOR_REPAIR, "y", "MU-A", date(2026, 1, 1), date(2030, 1, 1), "owner_b"
            ),
            clock,
        )
    session.commit()
    expiring = service.certificates(
        session, people["regulator"], TODAY, 90, states=[CertificateState.EXPIRING]
    )
    assert [v.certificate.number for v in expiring] == ["TS-A-2"]  # 48 days left
    assert [v.certificate.number for v in service.certificates(session, maint_b, TODAY, 90)] == ["TS-MAINT_B"]
    assert service.certificates(session, owner_b, TODAY, 90) == []
    with pytest.raises(Forbidden):
        service.certificates(session, people["operator"], TODAY, 90)


def test_training_and_the_missing_drills(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    training = service.NewTraining("maint_a", date(2026, 10, 10), 8, "TSG T5002 维保规则")
    assert service.record_training(session, people["maint_a"], training, clock, TODAY).unit_code == "MU-A"
    with pytest.raises(NotFound):
        service.record_training(session, people["maint_b"], training, clock, TODAY)
    drill = service.NewDrill("UU-B", date(2026, 6, 1), Scenario.ENTRAPMENT, 12, "11SHB000004")
    row, created = service.record_drill(session, people["owner_b"], drill, clock, TODAY)
    again, second = service.record_drill(session, people["owner_b"], drill, clock, TODAY)
    assert created and not second and again.id == row.id
    with pytest.raises(InvalidInput, match="is not an elevator of unit"):  # UU-A's elevator
        service.record_drill(
            session,
            people["owner_b"],
            service.NewDrill("UU-B", date(2026, 6, 2), Scenario.FIRE, 5, "11SHA000001"),
            clock,
            TODAY,
        )
    with pytest.raises(InvalidInput, match="use_unit"):  # a maintenance unit holds no use unit's drill
        service.record_drill(
            session,
            people["admin"],
            service.NewDrill("MU-A", date(2026, 6, 2), Scenario.FIRE, 5),
            clock,
            TODAY,
        )
    with pytest.raises(NotFound):
        service.record_drill(
            session,
            people["owner_b"],
            service.NewDrill("UU-A", date(2026, 6, 2), Scenario.FIRE, 5),
            clock,
            TODAY,
        )
    session.commit()
    missing = service.missing_drills(session, people["regulator"], 2026, required=1)
    assert [(m.unit_code, m.elevators, m.held) for m in missing] == [("UU-A", 2, 0)]
    assert [m.unit_code for m in service.missing_drills(session, people["regulator"], 2025, 1)] == [
        "UU-A",
        "UU-B",
    ]
    assert service.missing_drills(session, people["owner_b"], 2026, 1) == []
    assert [m.unit_code for m in service.missing_drills(session, people["owner_a"], 2026, 1)] == ["UU-A"]
