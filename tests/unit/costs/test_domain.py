"""The pure rules of cost disclosure: half-years, signs, yuan, the contract fee prorated by days (worked by
hand) and the summary a publication freezes."""

from __future__ import annotations

from datetime import date

import pytest

from liftwatch.costs.domain import (
    EntryKind,
    HalfYear,
    Line,
    Place,
    contract_share,
    last_due,
    parse_yuan,
    signed,
    summarise,
    yuan,
)

H1, H2 = HalfYear(2026, 1), HalfYear(2026, 2)


def test_half_years() -> None:
    assert HalfYear.parse("2026-h2") == H2 and str(H2) == "2026-H2"
    assert (H1.first_day, H1.last_day) == (date(2026, 1, 1), date(2026, 6, 30))
    assert (H2.first_day, H2.last_day) == (date(2026, 7, 1), date(2026, 12, 31))
    assert H2.next() == HalfYear(2027, 1) and H1.previous() == HalfYear(2025, 2)
    assert HalfYear.of(date(2026, 6, 30)) == H1 and HalfYear.of(date(2026, 7, 1)) == H2
    for bad in ("2026-H3", "2026H1", "1999-H1", ""):
        with pytest.raises(ValueError):
            HalfYear.parse(bad)


def test_the_latest_half_year_due() -> None:
    # 2026-H1 ended 30 June: with 30 days it is due on 31 July, not on 30 July
    assert last_due(date(2026, 7, 30), 30) == HalfYear(2025, 2)
    assert last_due(date(2026, 7, 31), 30) == H1
    assert last_due(date(2026, 11, 23), 30) == H1
    assert last_due(date(2027, 1, 31), 30) == H2


def test_signs_and_yuan() -> None:
    assert signed(EntryKind.ADVERTISING_INCOME, 500) == 500
    assert signed(EntryKind.OTHER_INCOME, 1) == 1
    assert signed(EntryKind.MAINTENANCE_FEE, 500) == -500
    assert signed(EntryKind.REPAIR, 500) == -500
    assert signed(EntryKind.OTHER_EXPENSE, 500) == -500
    with pytest.raises(ValueError):
        signed(EntryKind.REPAIR, 0)
    assert yuan(123456) == "1234.56" and yuan(-5) == "-0.05" and yuan(0) == "0.00"
    assert parse_yuan("1234.5") == 123450 and parse_yuan("1,000") == 100000 and parse_yuan("0.01") == 1
    for bad in ("0", "-1", "1.234", "abc", ""):
        with pytest.raises(ValueError):
            parse_yuan(bad)


def test_contract_fees_prorated_by_days_worked_by_hand() -> None:
    # a whole calendar year of 12,000.00 yuan: H1 181 of 365 days, 1,200,000 x 181 / 365 = 595,068.49
    assert contract_share(1_200_000, date(2026, 1, 1), date(2026, 12, 31), H1) == 595_068
    assert contract_share(1_200_000, date(2026, 1, 1), date(2026, 12, 31), H2) == 604_932  # the rest
    # from 1 March: H1 has 122 days (300,821.92); through H2 306 days (754,520.55) minus H1's share
    assert contract_share(900_000, date(2026, 3, 1), date(2027, 2, 28), H1) == 300_822
    assert contract_share(900_000, date(2026, 3, 1), date(2027, 2, 28), H2) == 453_699
    # ... and in 2027 its last 59 days: 900,000 x 59 / 365 = 145,479.45
    assert contract_share(900_000, date(2026, 3, 1), date(2027, 2, 28), HalfYear(2027, 1)) == 145_479
    # 20.00 yuan a day: April to June 91 days, July to December 184
    assert contract_share(730_000, date(2026, 4, 1), date(2026, 12, 31), H1) == 182_000
    assert contract_share(730_000, date(2026, 4, 1), date(2026, 12, 31), H2) == 368_000
    # a leap year has 366 days: 30.00 yuan a day, H1 182 days, H2 184
    leap = (date(2028, 1, 1), date(2028, 12, 31))
    assert contract_share(1_098_000, *leap, HalfYear(2028, 1)) == 546_000
    assert contract_share(1_098_000, *leap, HalfYear(2028, 2)) == 552_000
    # a contract outside the half-year costs nothing in it
    assert contract_share(1_200_000, date(2026, 7, 1), date(2026, 12, 31), H1) == 0


@pytest.mark.parametrize("price", [1, 99, 1_200_000, 1_234_567, 2_000_000_000])
def test_the_halves_of_a_calendar_year_add_up_to_the_yearly_price(price: int) -> None:
    year = (date(2026, 1, 1), date(2026, 12, 31))
    assert contract_share(price, *year, H1) + contract_share(price, *year, H2) == price


def test_the_summary() -> None:
    places = [Place("A1", "100001", "静安区 某路01号"), Place("A9", "100009", "静安区 某路09号")]
    lines = [
        Line(EntryKind.MAINTENANCE_FEE, -595_068, "A1"),
        Line(EntryKind.REPAIR, -80_000, "A1"),
        Line(EntryKind.REPAIR, 80_000, "A1"),  # its reversal
        Line(EntryKind.REPAIR, -50_000, "A1"),
        Line(EntryKind.ADVERTISING_INCOME, 300_000, None),
        Line(EntryKind.ADVERTISING_INCOME, 20_000, "A1"),
        Line(EntryKind.OTHER_EXPENSE, -10_000, None),
        Line(EntryKind.OTHER_INCOME, 5_000, None),
    ]
    s = summarise(lines, places)
    assert s.entries == 8
    assert s.totals == {
        "maintenance_fee": -595_068,
        "repair": -50_000,
        "advertising_income": 320_000,
        "other_income": 5_000,
        "other_expense": -10_000,
    }
    assert (s.income_fen, s.expense_fen) == (325_000, 655_068)
    assert s.balance_fen == 325_000 - 655_068
    assert (s.advertising_fen, s.other_cost_fen) == (320_000, 10_000)
    a1, a9 = s.elevators
    assert (a1.fee_fen, a1.repair_fen, a1.maintenance_fen, a1.advertising_fen) == (
        595_068,
        50_000,
        645_068,
        20_000,
    )
    assert (a9.registration_code, a9.maintenance_fen) == ("A9", 0)
    assert s.as_json()["elevators"][0]["maintenance_fen"] == 645_068
