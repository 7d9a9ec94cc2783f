"""Benchmark: the city's figures (analytics) and the monthly report on a big city, SQLite or PostgreSQL.

    .venv/bin/python bench/analytics.py [--elevators 300000] [--database-url URL] [--seed 1] [--rounds 5]

Builds a fresh schema (``liftwatch db upgrade``) in ``--database-url`` (default: a SQLite file in a temporary
directory; a PostgreSQL URL must name a database of its own: its tables are dropped first), generates the
simulated city of ``--elevators`` elevators (``generate_city``: districts, streets, units, place types,
ages, IoT terminals, coordinates, mobile signal) and, for the year before ``--as-of``, bulk inserts (not
timed; calibrated on ../shared/DOMAIN.md section 7):

- faults: Poisson 4.5 per elevator in use a year (stoppages 4-6 a year), one executemany per chunk;
- entrapment incidents: 0.11 per elevator-year (Nanjing), 80% completed, 10% self-released, 10% false
  alarms, each with its L1 dispatch (acknowledged in 1-8 min, arrived in 8-50 min);
- preventive maintenance work orders: 24 a year per elevator (every 15 days), one INSERT ... SELECT per
  visit round, so the rows never pass through Python;
- periodic inspections: one a year per elevator, signed, 96% passed at first attempt;
- complaints: 20 per 10,000 elevators a month, 15% unfounded;
- liability policies: a year's policy for 95% of the elevators in public places.

Then it times, with the clock at ``--as-of`` noon and the system actor (the city):

- the roll-up of the settled months of the last 12 (``analytics.service.rollup``, as
  ``liftwatch report rollup`` runs it; otherwise the first reader of each month pays its share once),
  printed but not in the last line;
- the monthly report of the last full month as the CLI makes it (``liftwatch report monthly``):
  ``gather`` + ``build_report`` + the PDF + the Excel workbook, in seconds (best of ``--report-runs``);
- the KPI API answers through the service functions the routes call (``analytics.service``, no HTTP):
  ``kpi_table`` of the last month for every dimension, ``trend`` of every KPI over 12 months,
  ``coverage`` and the first page of each ``coverage_gaps`` kind; and the dashboard's data as a
  regulator's browser asks for it, through the app (HTTP, signed in): the city page with its tiles and
  charts, its map (counted squares), a district's page and map, the map zoomed in to a square
  kilometre; ``--rounds`` times each, the first round included. Nothing is cached between the
  service calls (the settled months are read from their roll-up); the dashboard keeps the months before
  this one in memory per app, as it does in production. The p95 over every call, in milliseconds.

``--reuse`` measures the city already in ``--database-url`` (from an earlier run) without building it.

Prints the setup, the report's parts, the slowest calls, then as its last line:
{"elevators": N, "report_s": S, "kpi_p95_ms": P}
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from benchdb import Writer, fresh, settle
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, literal, select, text
from sqlalchemy.orm import Session

from liftwatch.accounts import service as accounts_service
from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.analytics import domain as analytics_domain
from liftwatch.analytics import excel, gather, pdf
from liftwatch.analytics import service as analytics
from liftwatch.analytics.domain import Dimension
from liftwatch.analytics.report import ReportPeriod, build_report
from liftwatch.app import create_app
from liftwatch.complaints.models import Complaint
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.db import make_engine
from liftwatch.inspection.models import Inspection
from liftwatch.insurance.domain import PUBLIC_PLACE_TYPES
from liftwatch.insurance.models import InsurancePolicy
from liftwatch.maintenance.models import WorkOrder
from liftwatch.registry import areas
from liftwatch.registry import queries as registry_queries
from liftwatch.registry.models import Elevator, Unit
from liftwatch.rescue.models import Dispatch, Incident
from liftwatch.sim.city import generate_city
from liftwatch.telemetry.models import Fault

FAULT_TYPES = ("door_close", "door_open", "overspeed", "stop_between_floors", "power_loss")
FAULTS_A_YEAR = 4.5
ENTRAPMENTS_A_YEAR = 0.11
COMPLAINTS_PER_10K_MONTH = 20


def _records(engine: Engine, as_of: date, seed: int) -> dict[str, int]:
    """A year of records for the elevators in use (module docstring)."""
    rng = np.random.default_rng(seed)
    now = datetime.combine(as_of, dtime(12), tzinfo=UTC)
    year_ago = now - timedelta(days=365)
    with Session(engine) as session:
        rows = session.execute(
            select(Elevator.registration_code, Elevator.place_type, Unit.code)
            .outerjoin(Unit, Unit.id == Elevator.maintenance_unit_id)
            .where(Elevator.status == "in_use")
            .order_by(Elevator.registration_code)
        ).all()
        insurer = session.scalar(
            select(Unit.id).where(Unit.unit_type == "insurer").order_by(Unit.id).limit(1)
        )
    n = len(rows)
    faults, incidents, dispatches = (
        Writer(engine, Fault.__table__),
        Writer(engine, Incident.__table__),
        Writer(engine, Dispatch.__table__),
    )
    inspections, complaints, policies = (
        Writer(engine, Inspection.__table__),
        Writer(engine, Complaint.__table__),
        Writer(engine, InsurancePolicy.__table__),
    )
    fault_n = rng.poisson(FAULTS_A_YEAR, n)
    entrapment_n = rng.poisson(ENTRAPMENTS_A_YEAR, n)
    complaint_n = rng.poisson(COMPLAINTS_PER_10K_MONTH * 12 / 10_000, n)
    inspected_day = rng.integers(0, 365, n)
    passed = rng.random(n) < 0.96
    insured = rng.random(n) < 0.95
    incident_id = 0
    for i, (code, place_type, unit_code) in enumerate(rows):
        unit = unit_code or ""
        for k in range(int(fault_n[i])):
            at = year_ago + timedelta(seconds=float(rng.uniform(0, 365 * 86400)))
            faults.add(
                {
                    "fault_id": f"B-{code}-{k}",
                    "registration_code": code,
                    "fault_type": FAULT_TYPES[k % len(FAULT_TYPES)],
                    "severity": "major",
                    "started_at": at,
                    "raised_at": at,
                    "cleared_at": at + timedelta(minutes=20),
                    "evidence": [],
                    "clear_evidence": [],
                    "detail": {},
                }
            )
        for _ in range(int(entrapment_n[i])):
            incident_id += 1
            alarm = year_ago + timedelta(seconds=float(rng.uniform(0, 365 * 86400)))
            ack = alarm + timedelta(minutes=float(rng.uniform(1, 8)))
            arrived = alarm + timedelta(minutes=float(rng.uniform(8, 50)))
            released = arrived + timedelta(minutes=10)
            outcome = rng.random()
            status = "completed" if outcome < 0.8 else "self_released" if outcome < 0.9 else "false_alarm"
            incidents.add(
                {
                    "id": incident_id,
                    "registration_code": code,
                    "source": "phone",
                    "status": status,
                    "level": "L1",
                    "persons_trapped": 1 if status != "false_alarm" else 0,
                    "maintenance_unit": unit,
                    "responder_unit": unit,
                    "arrival_limit_min": 30,
                    "alarm_at": alarm,
                    "dispatched_at": alarm + timedelta(minutes=1),
                    "acknowledged_at": ack,
                    "arrived_at": arrived if status == "completed" else None,
                    "released_at": released if status == "completed" else None,
                    "completed_at": released + timedelta(minutes=30) if status == "completed" else None,
                    "closed_false_at": arrived if status == "false_alarm" else None,
                    "all_released": status == "completed",
                    "cause": "misuse" if status == "completed" else None,
                    "created_at": alarm,
                    "updated_at": released,
                }
            )
            dispatches.add(
                {
                    "incident_id": incident_id,
                    "level": "L1",
                    "unit": unit,
                    "dispatched_at": alarm + timedelta(minutes=1),
                    "acknowledged_at": ack,
                    "arrived_at": arrived if status == "completed" else None,
                    "released_at": released if status == "completed" else None,
                }
            )
        performed = year_ago + timedelta(days=int(inspected_day[i]), hours=3)
        inspections.add(
            {
                "registration_code": code,
                "unit_code": unit,
                "kind": "periodic",
                "body_unit_code": "TI",
                "inspector": "bench",
                "scheduled_date": performed.date(),
                "due_date": performed.date(),
                "performed_at": performed,
                "conclusion": "pass" if passed[i] else "fail",
                "report_number": f"R-{code}",
                "signed_at": performed + timedelta(days=1),
                "created_at": performed - timedelta(days=30),
                "created_by": "bench",
                "updated_at": performed + timedelta(days=1),
            }
        )
        for k in range(int(complaint_n[i])):
            at = year_ago + timedelta(seconds=float(rng.uniform(0, 365 * 86400)))
            complaints.add(
                {
                    "receipt": f"C{complaints.count + len(complaints.rows):09d}",
                    "channel": "hotline_12345",
                    "external_ref": f"E-{code}-{k}",
                    "category": "noise",
                    "text": "异响",
                    "registration_code": code,
                    "maintenance_unit": unit,
                    "responsible_unit": unit,
                    "state": "closed",
                    "verdict": "unfounded" if rng.random() < 0.15 else "founded",
                    "received_by": "bench",
                    "received_at": at,
                    "closed_at": at + timedelta(days=3),
                    "updated_at": at + timedelta(days=3),
                }
            )
        if insurer is not None and place_type in PUBLIC_PLACE_TYPES and insured[i]:
            start = as_of - timedelta(days=int(inspected_day[i]))
            policies.add(
                {
                    "insurer_unit_id": insurer,
                    "policy_number": f"P-{code}",
                    "registration_code": code,
                    "start_date": start,
                    "end_date": start + timedelta(days=365),
                    "limit_per_person_fen": 100_000_000,
                    "limit_per_accident_fen": 500_000_000,
                    "premium_fen": 60_000,
                    "created_at": now - timedelta(days=int(inspected_day[i])),
                    "created_by": "bench",
                    "updated_at": now - timedelta(days=int(inspected_day[i])),
                }
            )
    writers = {
        "faults": faults,
        "incidents": incidents,
        "dispatches": dispatches,
        "inspections": inspections,
        "complaints": complaints,
        "policies": policies,
    }
    for w in writers.values():
        w.flush()
    counts = {name: w.count for name, w in writers.items()}
    counts["work_orders"] = _work_orders(engine, now)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SELECT setval('incidents_id_seq', (SELECT max(id) FROM incidents))"))
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return counts


def _work_orders(engine: Engine, now: datetime) -> int:
    """24 preventive visits per elevator in use over the year (the last one open), one INSERT ... SELECT
    per visit round."""
    table: Any = WorkOrder.__table__
    for v in range(24):
        due = now - timedelta(days=15 * (23 - v))
        done = v < 23
        values: dict[str, Any] = {
            "unit_code": Unit.code,
            "kind": "preventive",
            "source": "plan",
            "source_ref": Elevator.registration_code + f"-V{v}",
            "interval": "half_month",
            "summary": "",
            "urgent": False,
            "state": "confirmed" if done else "open",
            "assignee": "",
            "planned_date": due.date(),
            "due_at": due,
            "created_at": due - timedelta(days=15),
            "created_by": "bench",
            "completed_at": due - timedelta(days=1) if done else None,
            "confirmed_at": due if done else None,
            "cancel_reason": "",
            "updated_at": due,
        }
        columns = [Elevator.registration_code] + [
            v_ if not isinstance(v_, str | bool | date | type(None)) else literal(v_, type_=table.c[k].type)
            for k, v_ in values.items()
        ]
        stmt = insert(table).from_select(
            ["registration_code", *values],
            select(*columns)
            .select_from(Elevator)
            .join(Unit, Unit.id == Elevator.maintenance_unit_id)
            .where(Elevator.status == "in_use"),
        )
        with engine.begin() as conn:
            conn.execute(stmt)
    with engine.connect() as conn:  # rowcount of INSERT ... SELECT is not reported by every driver
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _report(engine: Engine, month: str, clock: FixedClock, settings: Settings) -> dict[str, float]:
    period = ReportPeriod.parse(month)
    t0 = time.perf_counter()
    with Session(engine) as session:
        figures = gather.gather(session, gather.CITY, period, clock, settings)
    t1 = time.perf_counter()
    report = build_report(figures, "zh")
    document = pdf.pdf(report)
    t2 = time.perf_counter()
    workbook = excel.xlsx(report)
    t3 = time.perf_counter()
    assert document[:4] == b"%PDF" and workbook[:2] == b"PK"
    return {"gather": t1 - t0, "pdf": t2 - t1, "excel": t3 - t2, "total": t3 - t0}


def _kpi_calls(
    clock: FixedClock, cfg: analytics.AnalyticsSettings, month: str
) -> list[tuple[str, Callable[[Session], object]]]:
    """Every KPI answer the bench times, by name: the service call each route makes."""

    def table(by: Dimension) -> Callable[[Session], object]:
        return lambda s: analytics.kpi_table(s, SYSTEM_ACTOR, clock, month=month, by=by, settings=cfg)

    def trend(kpi: str) -> Callable[[Session], object]:
        return lambda s: analytics.trend(s, SYSTEM_ACTOR, clock, kpi=kpi, settings=cfg)

    def gaps(kind: str) -> Callable[[Session], object]:
        return lambda s: analytics.coverage_gaps(s, SYSTEM_ACTOR, clock, kind=kind)

    def coverage(s: Session) -> object:
        return analytics.coverage(s, SYSTEM_ACTOR, clock, settings=cfg)

    calls = [(f"kpi_table by={by}", table(by)) for by in analytics_domain.DIMENSIONS]
    calls += [(f"trend kpi={kpi}", trend(kpi)) for kpi in analytics_domain.KPIS]
    calls.append(("coverage", coverage))
    calls += [(f"coverage_gaps kind={kind}", gaps(kind)) for kind in registry_queries.GAP_KINDS]
    return calls


BENCH_USER, BENCH_PASSWORD = "bench-regulator", "Bench-regulator-2026!"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def _dashboard_calls(
    engine: Engine, settings: Settings, clock: FixedClock
) -> tuple[TestClient, list[tuple[str, Callable[[Session], object]]]]:
    """The dashboard's pages and data as a regulator's browser asks for them (HTTP, through the app):
    the city page (tiles, trend and ranking charts embedded), its map (counted squares over the city's
    view), a district's page and map, and the map zoomed in to a square kilometre (points)."""
    with Session(engine) as session:
        if accounts_service.account_of(session, BENCH_USER) is None:
            data = UserCreate(username=BENCH_USER, password=BENCH_PASSWORD, role=Role.REGULATOR)
            accounts_service.create_user(session, Actor("bench", Role.ADMIN), data, clock)
            session.commit()
        district = session.scalar(select(Elevator.district).where(Elevator.district != "").limit(1)) or ""
        city_box = areas.bounds(session, SYSTEM_ACTOR, areas.Area())
        district_box = areas.bounds(session, SYSTEM_ACTOR, areas.Area(district))
    assert city_box and district_box, "no elevator has coordinates"
    # what the browser sends: the map's view (opened on the area's bounds) and a grid of about 90 px
    # squares over a 1280 x 450 px map; zoomed in, a view of about 1 km around the district's centre
    lat, lon = (district_box[0] + district_box[2]) / 2, (district_box[1] + district_box[3]) / 2
    near = (lat - 0.005, lon - 0.005, lat + 0.005, lon + 0.005)

    def view(box: tuple[float, float, float, float]) -> str:
        return "view=" + ",".join(f"{v:.6f}" for v in box) + "&grid=5,14"

    client = TestClient(create_app(settings=settings, engine=engine, clock=clock))
    found = CSRF_FIELD.search(client.get("/login").text)
    assert found, "no sign-in form"
    signed = client.post(
        "/login",
        data={"username": BENCH_USER, "password": BENCH_PASSWORD, "csrf_token": found.group(1)},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text[:200]

    def get(path: str) -> Callable[[Session], object]:
        def call(_: Session) -> object:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response

        return call

    return client, [
        ("dashboard page (city)", get("/dashboard")),
        ("dashboard points (city)", get("/dashboard/points.json?" + view(city_box))),
        (f"dashboard page (district {district})", get(f"/dashboard?district={quote(district)}")),
        (
            f"dashboard points (district {district})",
            get(f"/dashboard/points.json?district={quote(district)}&" + view(district_box)),
        ),
        ("dashboard points (zoomed in, 1 km)", get("/dashboard/points.json?" + view(near))),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--elevators", type=int, default=300_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5, help="calls of each KPI answer")
    parser.add_argument("--report-runs", type=int, default=2)
    parser.add_argument("--as-of", default="2026-12-03")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the city already in --database-url (no setup)"
    )
    args = parser.parse_args()
    as_of = date.fromisoformat(args.as_of)
    last = as_of.replace(day=1) - timedelta(days=1)
    month = f"{last.year:04d}-{last.month:02d}"
    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'city.db'}"
    started = time.perf_counter()
    counts: dict[str, int] = {}
    if not (args.reuse and args.database_url):
        fresh(url)
    engine = make_engine(url)
    if not (args.reuse and args.database_url):
        generate_city(engine, elevators=args.elevators, seed=args.seed, as_of=as_of, progress=False)
        counts = _records(engine, as_of, args.seed)
        settle(engine)
    with Session(engine) as session:
        in_use = registry_queries.count_in_service(session)
    print(
        f"setup: {time.perf_counter() - started:.1f} s, {in_use} elevators in use, records {counts}",
        flush=True,
    )

    settings = Settings(database_url=url, var_dir=Path(tmp.name) / "var")
    clock = FixedClock(datetime.combine(as_of, dtime(12), tzinfo=UTC))
    cfg = analytics.AnalyticsSettings.of(settings)

    # what the first reader of each month would pay once (or `liftwatch report rollup` ahead of them)
    t = time.perf_counter()
    with Session(engine) as session:
        rolled = analytics.rollup(session, clock, months=12, settings=cfg)
    cells = sum(m.cells for m in rolled)
    slowest_month = max((m.seconds for m in rolled), default=0.0)
    print(
        f"roll-up of the {len(rolled)} settled months: {time.perf_counter() - t:.1f} s, {cells} cells "
        f"(slowest month {slowest_month:.1f} s)",
        flush=True,
    )

    runs = [_report(engine, month, clock, settings) for _ in range(args.report_runs)]
    best = min(runs, key=lambda r: r["total"])
    parts = ", ".join(f"{k} {v:.2f} s" for k, v in best.items())
    print(f"monthly report {month} (best of {len(runs)}): {parts}", flush=True)

    timings: dict[str, list[float]] = {}
    web_settings = Settings(
        database_url=url, var_dir=Path(tmp.name) / "var", secret_key="bench-" + "x" * 40, pipeline=False
    )
    client, pages = _dashboard_calls(engine, web_settings, clock)
    calls = _kpi_calls(clock, cfg, month) + pages
    for _ in range(args.rounds):
        for name, call in calls:
            with Session(engine) as session:
                timings.setdefault(name, []).append(_timed(lambda: call(session)) * 1000)  # noqa: B023
    every = sorted(ms for values in timings.values() for ms in values)
    p95 = every[max(0, int(np.ceil(0.95 * len(every))) - 1)]
    slowest = sorted(timings.items(), key=lambda kv: -statistics.median(kv[1]))
    for name, values in slowest:
        print(f"  {name}: median {statistics.median(values):.0f} ms, max {max(values):.0f} ms", flush=True)
    print(
        f"KPI answers: {len(every)} calls, p50 {statistics.median(every):.0f} ms, p95 {p95:.0f} ms",
        flush=True,
    )
    print(json.dumps({"elevators": in_use, "report_s": round(best["total"], 2), "kpi_p95_ms": round(p95, 1)}))
    client.close()
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
