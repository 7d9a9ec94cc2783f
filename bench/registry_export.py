"""Benchmark: the registry export's memory and time on a city's ledger (issue 16), SQLite or PostgreSQL.

    .venv/bin/python bench/registry_export.py [--elevators 300000] [--database-url URL] [--reuse]

Builds a fresh schema in ``--database-url`` (default: a SQLite file in a temporary directory; a PostgreSQL
URL must name a database of its own: its tables are dropped first) and generates the simulated city of
``--elevators`` elevators with their units (``generate_city``); ``--reuse`` exports the city already there.
Then it starts the web server in a process of its own (``liftwatch serve``, the embedded pipeline off, so
its memory is the web process's alone), signs a regulator in for a bearer token and downloads, through
``GET /api/v1/registry/export``, streaming each file to disk:

- the baseline: one street's elevators (a few hundred), as CSV and as Excel: what any export costs
  (the first also loads openpyxl and warms the process);
- the whole ledger as CSV and as Excel.

For each it prints the seconds, the file's size and the server's memory: its resident set before, and the
peak during the export (Linux: the peak is reset through /proc/PID/clear_refs before each one, and read
from VmHWM after). The growth is the peak less the resident set before. Memory flat in the size of the
ledger means the whole ledger's growth is close to one street's: their ratio is printed. Last line:
{"elevators": N, "csv_mb": M, "xlsx_mb": M, "csv_growth_mb": G, "xlsx_growth_mb": G,
 "street_growth_mb": G, "ratio": R, "csv_s": S, "xlsx_s": S}
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from liftwatch.accounts import service as accounts_service
from liftwatch.accounts.actor import Actor, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.core.clock import FixedClock
from liftwatch.core.db import make_engine
from liftwatch.registry.models import Elevator
from liftwatch.sim.city import generate_city

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdb import fresh, settle

USER, PASSWORD = "bench-regulator", "Bench-regulator-2026!"
MB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(pid: int, field: str) -> int:
    """A /proc/PID/status figure in bytes (VmRSS: resident now; VmHWM: the peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} for process {pid}")


def _reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the resident set


def _prepare(url: str, elevators: int, reuse: bool) -> tuple[int, str, str]:
    """The city (built unless reused), the bench user; returns the elevators and one street."""
    engine = make_engine(url)
    clock = FixedClock(datetime(2026, 12, 3, 12, tzinfo=UTC))
    if not reuse:
        fresh(url)
        t = time.perf_counter()
        generate_city(engine, elevators=elevators, seed=1, as_of=date(2026, 12, 3), progress=False)
        settle(engine)
        print(f"setup: {time.perf_counter() - t:.1f} s", flush=True)
    with Session(engine) as session:
        if accounts_service.account_of(session, USER) is None:
            data = UserCreate(username=USER, password=PASSWORD, role=Role.REGULATOR)
            accounts_service.create_user(session, Actor("bench", Role.ADMIN), data, clock)
            session.commit()
        count = int(session.scalar(select(func.count()).select_from(Elevator)) or 0)
        district, street = session.execute(
            select(Elevator.district, Elevator.street).where(Elevator.street != "").limit(1)
        ).one()
    engine.dispose()
    return count, district, street


def _export(client: httpx.Client, pid: int, params: dict[str, str], out: Path) -> dict[str, float]:
    before = _status(pid, "VmRSS")
    _reset_peak(pid)
    t = time.perf_counter()
    with client.stream("GET", "/api/v1/registry/export", params=params) as r:
        r.raise_for_status()
        with out.open("wb") as fh:
            for chunk in r.iter_bytes(1 << 16):
                fh.write(chunk)
    seconds = time.perf_counter() - t
    peak = _status(pid, "VmHWM")
    return {
        "s": round(seconds, 2),
        "mb": round(out.stat().st_size / MB, 1),
        "rss_mb": round(before / MB, 1),
        "peak_mb": round(peak / MB, 1),
        "growth_mb": round(max(peak - before, 0) / MB, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--elevators", type=int, default=300_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--reuse", action="store_true", help="export the city already in --database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'city.db'}"
        count, district, street = _prepare(url, args.elevators, args.reuse)
        port = _free_port()
        env = {
            **os.environ,
            "LIFTWATCH_DATABASE_URL": url,
            "LIFTWATCH_PIPELINE": "false",
            "LIFTWATCH_VAR_DIR": str(work / "var"),
            "LIFTWATCH_SECRET_KEY": "bench-export-" + "x" * 40,
            "LIFTWATCH_LOG_LEVEL": "warning",
        }
        cli = Path(sys.executable).with_name("liftwatch")
        server = subprocess.Popen([str(cli), "serve", "--port", str(port)], env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=600) as client:
                for _ in range(300):
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    time.sleep(0.1)
                got = client.post("/api/v1/auth/token", data={"username": USER, "password": PASSWORD})
                got.raise_for_status()
                client.headers["Authorization"] = f"Bearer {got.json()['access_token']}"
                one = {"district": district, "street": street}
                runs = {
                    "street csv": _export(client, server.pid, {**one, "format": "csv"}, work / "s.csv"),
                    "street xlsx": _export(client, server.pid, {**one, "format": "xlsx"}, work / "s.xlsx"),
                    "ledger csv": _export(client, server.pid, {"format": "csv"}, work / "all.csv"),
                    "ledger xlsx": _export(client, server.pid, {"format": "xlsx"}, work / "all.xlsx"),
                }
        finally:
            server.terminate()
            server.wait(timeout=30)
    for name, r in runs.items():
        print(
            f"{name}: {r['s']:.2f} s, {r['mb']:.1f} MB file; server {r['rss_mb']:.0f} MB before, "
            f"peak {r['peak_mb']:.0f} MB, growth {r['growth_mb']:.1f} MB"
        )
    small = max(runs["street csv"]["growth_mb"], runs["street xlsx"]["growth_mb"])
    whole = max(runs["ledger csv"]["growth_mb"], runs["ledger xlsx"]["growth_mb"])
    print(
        json.dumps(
            {
                "elevators": count,
                "csv_mb": runs["ledger csv"]["mb"],
                "xlsx_mb": runs["ledger xlsx"]["mb"],
                "csv_growth_mb": runs["ledger csv"]["growth_mb"],
                "xlsx_growth_mb": runs["ledger xlsx"]["growth_mb"],
                "street_growth_mb": small,
                "ratio": round(whole / max(small, 1.0), 2),
                "csv_s": runs["ledger csv"]["s"],
                "xlsx_s": runs["ledger xlsx"]["s"],
            }
        )
    )


if __name__ == "__main__":
    main()
