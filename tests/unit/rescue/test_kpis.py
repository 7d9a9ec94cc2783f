"""Acceptance: rescue KPIs on a hand-made incident log, every answer worked out by hand (docs/KPIS.md).

The period is January and February 2026 on the Asia/Shanghai calendar:
[2025-12-31 16:00 UTC, 2026-02-28 16:00 UTC) = 59 days. Offsets below are seconds after the alarm.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from liftwatch.rescue.domain import Cause, IncidentRecord, Level, Source
from liftwatch.rescue.kpis import (
    EntrapmentRate,
    Kpis,
    KpiSettings,
    MeanDuration,
    Ratio,
    Target,
    compute_kpis,
    kpis_by,
)

M = 60  # seconds in a minute, to write offsets as "6 * M + 1"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


START = utc("2025-12-31T16:00")  # 2026-01-01 00:00 Asia/Shanghai
END = utc("2026-02-28T16:00")  # 2026-03-01 00:00 Asia/Shanghai
PERIOD_DAYS = 59
ELEVATORS = 20_000


def incident(
    id: int,
    alarm: str,
    *,
    district: str = "Yuzhong",
    street: str = "Jiefangbei",
    unit: str = "MU-A",
    place: str = "residential",
    source: Source = Source.PHONE,
    level: Level = Level.L1,
    dispatch: int | None = 1 * M,
    ack: int | None = 2 * M,
    arrive: int | None = 10 * M,
    release: int | None = 12 * M,
    complete: int | None = 15 * M,
    false_alarm: bool = False,
    all_released: bool = True,
    limit: int = 30,
    cause: Cause | None = Cause.MISUSE,
) -> IncidentRecord:
    at = utc(alarm)

    def after(seconds: int | None) -> datetime | None:
        return None if seconds is None else at + timedelta(seconds=seconds)

    return IncidentRecord(
        id=id,
        registration_code=f"RC{id:04d}",
        district=district,
        street=street,
        maintenance_unit=unit,
        place_type=place,
        source=source,
        level=level,
        alarm_at=at,
        dispatched_at=after(dispatch),
        acknowledged_at=after(ack),
        arrived_at=after(arrive),
        released_at=after(release),
        completed_at=after(complete),
        false_alarm=false_alarm,
        all_released=all_released,
        arrival_limit_min=limit,
        cause=cause,
    )


JB, GQ = "Jiangbei", "Guanyinqiao"
# fmt: off
LOG = [
    # 1 L1 in time: ack 2 min after dispatch, arrival 12, on site 3
    incident(1, "2026-01-05T02:00", ack=3 * M, arrive=12 * M, release=15 * M, complete=20 * M),
    # 2 boundaries: ack exactly 5:00 after dispatch, arrival exactly 30 min (both count)
    incident(2, "2026-01-10T04:00", place="public", source=Source.IOT, ack=6 * M, arrive=30 * M,
             release=34 * M, complete=40 * M, cause=Cause.ELECTRO_MECHANICAL),
    # 3 late arrival: 41 min > 30
    incident(3, "2026-01-15T10:00", street="Chaotianmen", unit="MU-B", dispatch=2 * M, ack=4 * M,
             arrive=41 * M, release=45 * M, complete=50 * M, cause=Cause.ELECTRO_MECHANICAL),
    # 4 no acknowledgement; escalated to L2 (public rescue station) that arrives in 25 min
    incident(4, "2026-01-20T12:00", district=JB, street=GQ, unit="MU-B", source=Source.ALARM_BUTTON,
             level=Level.L2, ack=None, arrive=25 * M, release=28 * M, complete=35 * M, cause=Cause.POWER_CUT),
    # 5 L3, ack 5:01 after dispatch (late); alarm 01:00 on 1 February in Shanghai
    incident(5, "2026-01-31T17:00", district=JB, street=GQ, place="public", source=Source.TRANSFER,
             level=Level.L3, ack=6 * M + 1, arrive=20 * M, release=35 * M, complete=40 * M,
             cause=Cause.OTHER),
    # 6 false alarm: excluded from every rate, counted by source
    incident(6, "2026-02-03T06:00", source=Source.IOT, arrive=15 * M, release=None, complete=16 * M,
             false_alarm=True, all_released=False, cause=None),
    # 7 a 60-minute area: arrival 45 min is on time there
    incident(7, "2026-02-05T08:00", district="Jiangbei", street="Yufu", unit="MU-B", dispatch=2 * M,
             ack=5 * M, arrive=45 * M, release=50 * M, complete=55 * M, limit=60),
    # 8 dispatched, acknowledged, never arrived, never completed (so no success even though all_released
    # says so), no cause reported
    incident(8, "2026-02-10T09:00", district=JB, street=GQ, unit="MU-B", place="public", source=Source.PUBLIC,
             ack=2 * M, arrive=None, release=None, complete=None, all_released=True, cause=None),
    # 9 00:30 on 1 January in Shanghai (16:30 UTC on 31 December): inside the period, month 2026-01
    incident(9, "2025-12-31T16:30"),
    # 10 23:00 on 31 December in Shanghai: before the period
    incident(10, "2025-12-31T15:00"),
    # 11 alarm exactly at period end: outside [start, end)
    incident(11, "2026-02-28T16:00"),
    # 12 L2, completed but not everyone released: not a rescue success; on site 12
    incident(12, "2026-02-14T11:00", street="Chaotianmen", unit="MU-B", level=Level.L2, ack=3 * M,
             arrive=20 * M, release=32 * M, complete=40 * M, all_released=False,
             cause=Cause.ELECTRO_MECHANICAL),
    # 13 release recorded before arrival (data error): on-site time unusable, listed as an anomaly
    incident(13, "2026-02-20T03:00", place="public", source=Source.IOT, arrive=9 * M, release=8 * M,
             complete=12 * M, cause=Cause.POWER_CUT),
    # 14 property manager on site without a recorded dispatch (L2): responder sent, no response credit
    incident(14, "2026-02-25T13:00", district=JB, street=GQ, level=Level.L2, dispatch=None, ack=None,
             arrive=8 * M, release=10 * M, complete=12 * M),
    # 15 persons walked out before any dispatch; operator closed the case: success, nobody sent
    incident(15, "2026-01-25T20:00", street="Chaotianmen", dispatch=None, ack=None, arrive=None,
             release=None, complete=6 * M, cause=Cause.OTHER),
]
# fmt: on


def pair(r: Ratio) -> tuple[int, int]:
    return (r.numerator, r.denominator)


def minutes(m: MeanDuration) -> tuple[float, int]:
    return (m.total_min, m.count)


def test_hand_computed_log() -> None:
    k = compute_kpis(LOG, ELEVATORS, START, END)
    # incidents 1-9 and 12-15 alarm in the period (10 before it, 11 at its end) -> 13; 6 is a false alarm
    assert (k.incidents, k.false_alarms, k.rescues) == (13, 1, 12)

    # response: ack - dispatch <= 5:00 for 1,2(5:00),3,7,8,9,12,13; not 4 (no ack), 5 (5:01),
    # 14 and 15 (no dispatch) -> 8 / 12
    assert pair(k.response_rate) == (8, 12)
    assert k.response_rate.fraction == Fraction(2, 3)
    assert k.response_rate.met is False  # 66.7% < 99%
    assert str(k.response_rate) == "8 / 12 (66.7%)"

    # arrival - alarm over the 10 rescues with an arrival (not 8, 15):
    # 1:12 + 2:30 + 3:41 + 4:25 + 5:20 + 7:45 + 9:10 + 12:20 + 13:9 + 14:8 = 220 min / 10 = 22.0 min
    assert minutes(k.average_arrival) == (220, 10)
    assert k.average_arrival.minutes == 22.0
    assert k.average_arrival.met is True  # <= 30

    # on time: sent = rescues with a dispatch or an arrival = all but 15 -> 11;
    # on time 1(12),2(30=30),4(25),5(20),7(45<=60),9(10),12(20),13(9),14(8); late 3(41), 8 (none) -> 9 / 11
    assert pair(k.on_time_arrival) == (9, 11)
    assert k.on_time_arrival.met is False  # 81.8% < 98%

    # on site = release - arrival: 1:3 + 2:4 + 3:4 + 4:3 + 5:15 + 7:5 + 9:2 + 12:12 + 14:2 = 50 min / 9
    # (8 and 15 have no arrival, 13 goes backwards)
    assert minutes(k.average_on_site) == (50, 9)
    assert k.average_on_site.fraction_min == Fraction(50, 9)
    assert k.average_on_site.met is None  # no target
    assert k.timestamp_anomalies == (13,)

    # success = completed and all released: all but 8 (not completed) and 12 (not all released) -> 10 / 12
    assert pair(k.rescue_success) == (10, 12)
    assert k.rescue_success.met is False  # < 100%

    # dispatch rate = dispatched rescues that got an arrival: dispatched = all but 14, 15 -> 10; 8 never
    # arrived -> 9 / 10
    assert pair(k.dispatch_rate) == (9, 10)
    assert k.dispatch_rate.met is None

    # entrapments = 12 rescues on 20,000 elevators over 59 days:
    # per year 12/20000 x 365/59 = 4380/1180000 = 0.371% (< 0.5%: met); per month = that / 12 = 0.0309%
    e = k.entrapment_rate
    assert (e.entrapments, e.elevators, e.period) == (12, 20_000, timedelta(days=59))
    assert e.fraction == Fraction(12, 20_000)
    assert e.fraction_per_year == Fraction(4380, 1_180_000)
    assert e.fraction_per_month == Fraction(365, 1_180_000)
    assert e.per_year == pytest.approx(0.0037119, abs=1e-7)
    assert e.met is True

    # levels over the 12 rescues: L1 = 1,2,3,7,8,9,13,15 -> 8; L2 = 4,12,14 -> 3; L3 = 5 -> 1
    assert {lv: pair(r) for lv, r in k.by_level.items()} == {
        Level.L1: (8, 12),
        Level.L2: (3, 12),
        Level.L3: (1, 12),
    }
    # causes over the 11 rescues with a cause (8 unreported): misuse 1,7,9,14 -> 4; electro-mechanical
    # 2,3,12 -> 3; power cut 4,13 -> 2; other 5,15 -> 2
    assert {c: pair(r) for c, r in k.cause_mix.items()} == {
        Cause.MISUSE: (4, 11),
        Cause.ELECTRO_MECHANICAL: (3, 11),
        Cause.POWER_CUT: (2, 11),
        Cause.OTHER: (2, 11),
    }
    assert k.cause_unreported == 1
    # sources over all 13 incidents, false alarm 6 included: phone 1,3,7,9,12,14,15; IoT 2,6,13;
    # alarm button 4; public 8; transfer 5
    assert k.by_source == {
        Source.PHONE: 7,
        Source.IOT: 3,
        Source.ALARM_BUTTON: 1,
        Source.PUBLIC: 1,
        Source.TRANSFER: 1,
    }


def test_by_month_uses_the_shanghai_calendar() -> None:
    by = kpis_by(
        LOG, "month", {"2026-01": ELEVATORS, "2026-02": ELEVATORS, "2025-11": 5}, START, END, KpiSettings()
    )
    assert list(by) == ["2026-01", "2026-02"]  # a month outside the period is no group
    jan, feb = by["2026-01"], by["2026-02"]
    # January (Shanghai): 1,2,3,4,9 (00:30 on 1 Jan), 15 -> 6 rescues; 5 (01:00 on 1 Feb) is February
    assert (jan.incidents, jan.rescues) == (6, 6)
    assert (jan.period_start, jan.period_end) == (START, utc("2026-01-31T16:00"))
    # response 1,2,3,9 (not 4, 15) -> 4/6; arrival 12+30+41+25+10 = 118 / 5; on time 1,2,4,9 of sent
    # 1,2,3,4,9 -> 4/5; success all 6
    assert pair(jan.response_rate) == (4, 6)
    assert minutes(jan.average_arrival) == (118, 5)
    assert pair(jan.on_time_arrival) == (4, 5)
    assert pair(jan.rescue_success) == (6, 6)
    # 6 / 20000 over 31 days -> per month 6/20000 x 365/31 / 12
    assert jan.entrapment_rate.fraction_per_month == Fraction(6, 20_000) * Fraction(365, 31) / 12

    # February: 5,6(false),7,8,12,13,14 -> 7 incidents, 6 rescues, 28 days
    assert (feb.incidents, feb.false_alarms, feb.rescues) == (7, 1, 6)
    assert feb.period_end - feb.period_start == timedelta(days=28)
    # response 7,8,12,13 -> 4/6; arrival 5:20 + 7:45 + 12:20 + 13:9 + 14:8 = 102 / 5; on time 5,7,12,13,14
    # of sent 5,7,8,12,13,14 -> 5/6; success 5,7,13,14 -> 4/6
    assert pair(feb.response_rate) == (4, 6)
    assert minutes(feb.average_arrival) == (102, 5)
    assert pair(feb.on_time_arrival) == (5, 6)
    assert pair(feb.rescue_success) == (4, 6)
    assert feb.entrapment_rate.fraction_per_month == Fraction(6, 20_000) * Fraction(365, 28) / 12


def test_by_district() -> None:
    by = kpis_by(LOG, "district", {"Yuzhong": 12_000, "Jiangbei": 8_000}, START, END)
    yz, jb = by["Yuzhong"], by["Jiangbei"]
    # Yuzhong: 1,2,3,6(false),9,12,13,15 -> 7 rescues; Jiangbei: 4,5,7,8,14 -> 5
    assert (yz.incidents, yz.rescues, jb.incidents, jb.rescues) == (8, 7, 5, 5)
    # response: Yuzhong 1,2,3,9,12,13 (not 15) -> 6/7; Jiangbei 7,8 (not 4,5,14) -> 2/5
    assert pair(yz.response_rate) == (6, 7)
    assert pair(jb.response_rate) == (2, 5)
    # on time: Yuzhong 1,2,9,12,13 of sent 1,2,3,9,12,13 -> 5/6; Jiangbei 4,5,7,14 of 4,5,7,8,14 -> 4/5
    assert pair(yz.on_time_arrival) == (5, 6)
    assert pair(jb.on_time_arrival) == (4, 5)
    # entrapments over 59 days: 7/12000 and 5/8000
    assert yz.entrapment_rate.fraction_per_year == Fraction(7, 12_000) * Fraction(365, 59)
    assert jb.entrapment_rate.fraction_per_year == Fraction(5, 8_000) * Fraction(365, 59)
    assert (yz.period_start, yz.period_end) == (START, END)


def test_by_maintenance_unit() -> None:
    by = kpis_by(LOG, "maintenance_unit", {"MU-A": 11_000, "MU-B": 9_000}, START, END)
    a, b = by["MU-A"], by["MU-B"]
    # MU-A: 1,2,5,9,13,14,15 (+6 false); MU-B: 3,4,7,8,12
    assert (a.rescues, b.rescues) == (7, 5)
    # response: A 1,2,9,13 -> 4/7; B 3,7,8,12 -> 4/5
    assert pair(a.response_rate) == (4, 7)
    assert pair(b.response_rate) == (4, 5)
    # arrival: A 12+30+20+10+9+8 = 89 / 6 (14.8 min, met); B 41+25+45+20 = 131 / 4 = 32.75 min (> 30)
    assert minutes(a.average_arrival) == (89, 6)
    assert minutes(b.average_arrival) == (131, 4)
    assert a.average_arrival.met is True
    assert b.average_arrival.minutes == 32.75
    assert b.average_arrival.met is False


def test_by_place_type_lists_keys_without_incidents() -> None:
    by = kpis_by(LOG, "place_type", {"residential": 15_000, "public": 4_500, "industrial": 500}, START, END)
    assert list(by) == ["industrial", "public", "residential"]
    # residential: 1,3,4,7,9,12,14,15 -> success all but 12 -> 7/8; public 2,5,8,13 -> all but 8 -> 3/4
    assert pair(by["residential"].rescue_success) == (7, 8)
    assert pair(by["public"].rescue_success) == (3, 4)
    ind = by["industrial"]
    assert ind.incidents == 0
    assert ind.response_rate.value is None  # nothing to rate
    assert ind.entrapment_rate.value == 0.0  # 0 entrapments on 500 elevators is a real 0


def test_by_street_and_unknown_elevator_count() -> None:
    by = kpis_by(LOG, "street", {"Jiefangbei": 3_000}, START, END)
    assert sorted(by) == ["Chaotianmen", "Guanyinqiao", "Jiefangbei", "Yufu"]
    assert pair(by["Yufu"].on_time_arrival) == (1, 1)  # 45 min in a 60-minute area
    assert by["Chaotianmen"].entrapment_rate.value is None  # elevators unknown -> 0 -> no rate
    assert by["Jiefangbei"].rescues == 4  # 1, 2, 9, 13


@pytest.mark.parametrize("key", ["district", "street", "maintenance_unit", "place_type", "month"])
def test_groups_add_up_to_the_total(key: str) -> None:
    total = compute_kpis(LOG, 0, START, END)
    groups = kpis_by(LOG, key, {}, START, END)  # type: ignore[arg-type]

    def summed(get: str) -> tuple[int, int]:
        rs = [getattr(g, get) for g in groups.values()]
        return (sum(r.numerator for r in rs), sum(r.denominator for r in rs))

    for name in ("response_rate", "on_time_arrival", "rescue_success", "dispatch_rate"):
        assert summed(name) == pair(getattr(total, name)), name
    assert sum(g.incidents for g in groups.values()) == total.incidents
    assert sum((g.average_arrival.total for g in groups.values()), timedelta()) == total.average_arrival.total


def test_empty_input_gives_none_not_zero() -> None:
    k = compute_kpis([], 1_000, START, END)
    assert (k.incidents, k.rescues, k.false_alarms, k.cause_unreported) == (0, 0, 0, 0)
    for r in (k.response_rate, k.on_time_arrival, k.rescue_success, k.dispatch_rate):
        assert (r.value, r.percent, r.fraction) == (None, None, None)
    assert k.response_rate.met is None
    assert str(k.response_rate) == "0 / 0 (n/a)"
    assert k.average_arrival.minutes is None
    assert k.average_arrival.met is None
    assert str(k.average_arrival) == "n/a"
    assert all(r.value is None for r in k.by_level.values())
    assert all(r.value is None for r in k.cause_mix.values())
    assert set(k.by_source.values()) == {0}
    assert k.entrapment_rate.value == 0.0
    assert k.entrapment_rate.met is True
    no_fleet = compute_kpis([], 0, START, END).entrapment_rate
    assert (no_fleet.value, no_fleet.per_year, no_fleet.per_month, no_fleet.met) == (None, None, None, None)


def test_only_false_alarms() -> None:
    k = compute_kpis([LOG[5]], 1_000, START, END)
    assert (k.incidents, k.false_alarms, k.rescues) == (1, 1, 0)
    assert k.response_rate.value is None
    assert k.average_arrival.count == 0  # the crew's arrival at a false alarm is no rescue arrival
    assert k.by_source[Source.IOT] == 1


def test_every_target_met() -> None:
    good = [
        incident(i, f"2026-01-{i + 1:02d}T02:00", ack=6 * M, arrive=30 * M, release=33 * M, complete=40 * M)
        for i in range(1, 11)
    ]
    k = compute_kpis(good, 10_000, START, END)
    # 10 / 10 responded and on time; mean arrival exactly 30 min; 10 / 10 successes;
    # entrapments 10/10000 x 365/59 = 0.619% a year (not < 0.5%)
    assert [k.response_rate.met, k.average_arrival.met, k.on_time_arrival.met, k.rescue_success.met] == [
        True
    ] * 4
    assert k.average_arrival.minutes == 30.0
    assert k.entrapment_rate.met is False
    # the same rate read per month: 0.619% / 12 = 0.0515% < 0.5%
    monthly = compute_kpis(good, 10_000, START, END, KpiSettings(entrapment_target_basis="month"))
    assert monthly.entrapment_rate.met is True
    # a bigger fleet: 10/20000 x 365/59 = 0.309% a year
    assert compute_kpis(good, 20_000, START, END).entrapment_rate.met is True


def test_targets_at_the_boundary_are_exact() -> None:
    assert Ratio(99, 100, Target(">=", 0.99)).met is True
    assert Ratio(98, 100, Target(">=", 0.99)).met is False
    assert Ratio(29, 100, Target("<=", 0.29)).met is True  # no float rounding: 0.29 is 29/100
    assert Ratio(5, 1000, Target("<", 0.005)).met is False
    assert Ratio(1, 3, Target(">", 0.3)).met is True
    assert MeanDuration(timedelta(minutes=90), 3, Target("<=", 30)).met is True
    assert MeanDuration(timedelta(minutes=90, seconds=1), 3, Target("<=", 30)).met is False
    rate = EntrapmentRate(5, 1000, timedelta(days=365), Target("<", 0.005))
    assert rate.per_year == 0.005
    assert rate.met is False
    assert str(Target(">=", 0.99)) == ">= 0.99"


def test_settings_change_the_response_limit() -> None:
    strict = compute_kpis(LOG, ELEVATORS, START, END, KpiSettings(response_limit_s=2 * M))
    # within 2:00 of dispatch: 1 (2:00), 3 (2:00), 8 (1:00), 9 (1:00), 12 (2:00), 13 (1:00) -> 6 / 12
    assert pair(strict.response_rate) == (6, 12)
    lenient = KpiSettings(response_rate_target=Target(">=", 0.6), on_time_arrival_target=None)
    k = compute_kpis(LOG, ELEVATORS, START, END, lenient)
    assert k.response_rate.met is True  # 8/12 >= 60%
    assert k.on_time_arrival.met is None


def test_ack_before_dispatch_is_an_anomaly_not_a_response() -> None:
    odd = incident(1, "2026-01-05T02:00", dispatch=3 * M, ack=2 * M)
    k = compute_kpis([odd], 100, START, END)
    assert pair(k.response_rate) == (0, 1)
    assert k.timestamp_anomalies == (1,)
    early = incident(2, "2026-01-05T02:00", arrive=-M, release=None)  # arrival before the alarm
    k2 = compute_kpis([early], 100, START, END)
    assert (k2.average_arrival.count, pair(k2.on_time_arrival), k2.timestamp_anomalies) == (0, (0, 1), (2,))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (datetime(2026, 1, 1), END, "timezone-aware"),
        (START, START, "must be after"),
        (END, START, "must be after"),
    ],
)
def test_bad_period(start: datetime, end: datetime, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compute_kpis(LOG, 1, start, end)
    with pytest.raises(ValueError, match=message):
        kpis_by(LOG, "district", {}, start, end)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="elevators_in_service"):
        compute_kpis(LOG, -1, START, END)
    naive = replace(LOG[0], alarm_at=datetime(2026, 1, 5, 2))
    with pytest.raises(ValueError, match="incident 1 alarm_at"):
        compute_kpis([naive], 1, START, END)


def test_period_in_another_offset_is_the_same_instant() -> None:
    from zoneinfo import ZoneInfo

    sh = ZoneInfo("Asia/Shanghai")
    k = compute_kpis(LOG, ELEVATORS, datetime(2026, 1, 1, tzinfo=sh), datetime(2026, 3, 1, tzinfo=sh))
    assert isinstance(k, Kpis)
    assert (k.incidents, pair(k.response_rate)) == (13, (8, 12))
    by = kpis_by(LOG, "month", {}, datetime(2026, 1, 15, tzinfo=sh), datetime(2026, 2, 10, tzinfo=sh))
    # clipped months: 15-31 Jan (17 days) and 1-9 Feb (9 days), bounds in UTC
    assert {k: g.period_end - g.period_start for k, g in by.items()} == {
        "2026-01": timedelta(days=17),
        "2026-02": timedelta(days=9),
    }
    assert by["2026-01"].period_start == utc("2026-01-14T16:00")
    # 15 Jan - 9 Feb local: 3 (15 Jan 18:00), 4, 15 in January; 5, 6, 7 in February
    assert (by["2026-01"].incidents, by["2026-02"].incidents) == (3, 3)


def test_live_figures_leave_undecided_incidents_out() -> None:
    """At 10:03, a call dispatched at 10:01 and not yet acknowledged has 3 minutes left: it is pending,
    not a miss. An older one whose window closed unanswered is a miss."""
    as_of = utc("2026-01-10T10:03")
    fresh = incident(1, "2026-01-10T10:00", ack=None, arrive=None, release=None, complete=None, cause=None)
    missed = incident(2, "2026-01-10T09:00", ack=None, arrive=40 * M)  # arrived late, never acknowledged
    done = incident(3, "2026-01-10T08:00")
    live = compute_kpis([fresh, missed, done], ELEVATORS, START, END, as_of=as_of)
    # response: 3 ok (ack 1 min after dispatch); 2 missed; 1 pending -> 1 / 2
    assert pair(live.response_rate) == (1, 2)
    # on time: 3 ok (10 min), 2 late (40 min), 1 pending (alarm 10:00, limit 30 min) -> 1 / 2
    assert pair(live.on_time_arrival) == (1, 2)
    # success: 2 and 3 completed with all released; 1 still going on -> 2 / 2
    assert pair(live.rescue_success) == (2, 2)
    assert live.pending == 1
    settled = compute_kpis([fresh, missed, done], ELEVATORS, START, END)  # no as_of: history, all decided
    assert pair(settled.response_rate) == (1, 3) and settled.pending == 0
    later = compute_kpis([fresh, missed, done], ELEVATORS, START, END, as_of=utc("2026-01-10T10:40"))
    assert pair(later.response_rate) == (1, 3)  # the window closed: now it is a miss
    assert pair(later.on_time_arrival) == (1, 3)
