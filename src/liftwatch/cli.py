"""The ``liftwatch`` command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from liftwatch.accounts.models import SYSTEM_ACTOR, Role
from liftwatch.core.clock import SystemClock
from liftwatch.core.config import get_settings
from liftwatch.core.db import make_engine, make_session_factory, session_scope
from liftwatch.core.errors import DomainError, FieldError

app = typer.Typer(help="liftwatch: a city's smart-elevator and 96333 rescue platform", no_args_is_help=True)
city_app = typer.Typer(help="The simulated city", no_args_is_help=True)
db_app = typer.Typer(help="Database schema", no_args_is_help=True)
users_app = typer.Typer(help="User accounts", no_args_is_help=True)
registry_app = typer.Typer(help="Elevator registry import and export", no_args_is_help=True)
app.add_typer(city_app, name="city")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(registry_app, name="registry")

console = Console(stderr=True)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn bad input into one clear line per field and exit code 1, never a traceback."""
    try:
        yield
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "input"
            console.print(f"[red]{field}: {err['msg'].removeprefix('Value error, ')}[/red]")
        raise typer.Exit(code=1) from None
    except DomainError as exc:
        for fe in exc.errors or [FieldError("", exc.message)]:
            console.print(f"[red]{fe.field + ': ' if fe.field else ''}{fe.message}[/red]")
        raise typer.Exit(code=1) from None


def _url(database_url: str | None) -> str:
    return database_url or get_settings().resolved_database_url


DbOption = Annotated[str | None, typer.Option("--database-url", help="default: LIFTWATCH_DATABASE_URL")]


@db_app.command("upgrade")
def db_upgrade(database_url: DbOption = None, revision: str = "head") -> None:
    """Create or migrate the schema to the newest revision."""
    from liftwatch.core.migrate import upgrade

    upgrade(_url(database_url), revision)
    console.print(f"[green]schema at {revision}[/green]")


@city_app.command("generate")
def city_generate(
    elevators: Annotated[int, typer.Option("--elevators", "-n", min=1, help="how many elevators")] = 2000,
    seed: Annotated[int, typer.Option(help="same seed, same city")] = 1,
    as_of: Annotated[str | None, typer.Option(help="the city's 'today' (YYYY-MM-DD); default today")] = None,
    database_url: DbOption = None,
) -> None:
    """Generate a plausible city (districts, units, buildings, elevators) into the database."""
    from liftwatch.core.migrate import upgrade
    from liftwatch.sim.city import generate_city

    url = _url(database_url)
    upgrade(url)
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        console.print(f"[red]--as-of: '{as_of}' is not a date (YYYY-MM-DD)[/red]")
        raise typer.Exit(code=1) from None
    engine = make_engine(url)
    try:
        stats = generate_city(engine, elevators=elevators, seed=seed, as_of=day)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=1) from None
    finally:
        engine.dispose()
    console.print(stats.summary())


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option()],
    role: Annotated[Role, typer.Option()],
    unit: Annotated[
        str | None, typer.Option(help="unit code: maintenance and use_unit staff; optional for a gateway")
    ] = None,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
    full_name: str = "",
    database_url: DbOption = None,
) -> None:
    """Create a user account."""
    from liftwatch.accounts.schemas import UserCreate
    from liftwatch.accounts.service import create_user

    factory = make_session_factory(make_engine(_url(database_url)))
    with _user_errors(), session_scope(factory) as session:
        data = UserCreate(username=username, password=password, role=role, unit=unit, full_name=full_name)
        create_user(session, SYSTEM_ACTOR, data, SystemClock())
    console.print(f"[green]created {role.value} '{username}'[/green]")


@registry_app.command("import")
def registry_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".csv or .xlsx")],
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="import the good rows")] = False,
    rejects: Annotated[Path | None, typer.Option(help="where bad rows go with --skip-invalid")] = None,
    database_url: DbOption = None,
) -> None:
    """Import elevators (and the units they name) from an agency's CSV or Excel file."""
    from liftwatch.registry.io import import_file

    factory = make_session_factory(make_engine(_url(database_url)))
    with _user_errors(), session_scope(factory) as session:
        report = import_file(
            session, SYSTEM_ACTOR, file, SystemClock(), skip_invalid=skip_invalid, rejects_path=rejects
        )
    console.print(report.render(), markup=False, highlight=False, soft_wrap=True)
    if report.errors and not skip_invalid:
        raise typer.Exit(code=1)


@registry_app.command("export")
def registry_export(
    file: Annotated[Path, typer.Argument(help=".csv or .xlsx")],
    database_url: DbOption = None,
    headers: Annotated[
        str, typer.Option(help="en: field names; zh: Chinese headers, labels and 是/否 (both import back)")
    ] = "en",
) -> None:
    """Export every elevator to CSV or Excel, in the columns the import reads."""
    from liftwatch.registry.io import export_file

    factory = make_session_factory(make_engine(_url(database_url)))
    with _user_errors(), session_scope(factory) as session:
        n = export_file(session, SYSTEM_ACTOR, file, headers=headers)
    console.print(f"[green]exported {n} elevators to {file}[/green]")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the API and web UI (the schema must be at the newest revision)."""
    import uvicorn

    from liftwatch.app import create_app
    from liftwatch.core.migrate import pending

    problem = pending(get_settings().resolved_database_url)
    if problem:
        console.print(f"[red]{problem}[/red]")
        raise typer.Exit(code=1)
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


@app.command()
def ingest(
    role: Annotated[
        list[str] | None, typer.Option("--role", help="ingest, detect, archive, rescue (repeat; default all)")
    ] = None,
    partitions: Annotated[
        str | None, typer.Option(help="partitions this process detects, e.g. 0,1 (default all)")
    ] = None,
    metrics_port: Annotated[int, typer.Option(help="serve Prometheus /metrics on this port (0: off)")] = 9108,
    client_id: Annotated[str | None, typer.Option(help="stable MQTT client id (default: per host)")] = None,
) -> None:
    """Run the telemetry pipeline as a worker: MQTT -> NATS JetStream -> fault detector -> stores."""
    import asyncio
    import signal
    import socket

    from prometheus_client import start_http_server

    from liftwatch.core.migrate import pending
    from liftwatch.telemetry.pipeline import ROLES, Pipeline

    settings = get_settings()
    roles = frozenset(role or ROLES)
    if roles - ROLES:
        console.print(f"[red]--role: expected one of {', '.join(sorted(ROLES))}[/red]")
        raise typer.Exit(code=1)
    if not settings.bus_url and roles != ROLES:
        console.print("[red]split roles need a shared bus: set LIFTWATCH_BUS_URL=nats://...[/red]")
        raise typer.Exit(code=1)
    if "ingest" in roles and not settings.mqtt_url:
        console.print(
            "[yellow]LIFTWATCH_MQTT_URL is not set: only the HTTP endpoint of the web can ingest[/yellow]"
        )
    problem = pending(settings.resolved_database_url)
    if problem:
        console.print(f"[red]{problem}[/red]")
        raise typer.Exit(code=1)
    parts: list[int] | None = None
    if partitions:
        try:
            parts = [int(p) for p in partitions.split(",")]
        except ValueError:
            console.print(f"[red]--partitions: '{partitions}' is not a list of numbers like 0,1[/red]")
            raise typer.Exit(code=1) from None
        if any(not 0 <= p < settings.partitions for p in parts):
            console.print(f"[red]--partitions: each must be in 0..{settings.partitions - 1}[/red]")
            raise typer.Exit(code=1)
    if client_id:
        settings = settings.model_copy(update={"mqtt_client_id": client_id})
    elif not settings.mqtt_client_id:
        settings = settings.model_copy(update={"mqtt_client_id": f"liftwatch-ingest-{socket.gethostname()}"})

    async def main() -> None:
        engine = make_engine(settings.resolved_database_url)
        pipeline = Pipeline(
            settings, make_session_factory(engine), SystemClock(), roles=roles, partitions=parts
        )
        if metrics_port:
            start_http_server(metrics_port, registry=pipeline.metrics.registry)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await pipeline.start()
        console.print(f"[green]pipeline running: {', '.join(sorted(roles))}[/green]")
        await stop.wait()
        console.print("stopping: flushing and checkpointing")
        await pipeline.stop()
        engine.dispose()

    asyncio.run(main())


@app.command()
def demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    elevators: Annotated[int, typer.Option(help="size of the demo city")] = 2000,
) -> None:
    """First run: create the database, a simulated city and demo users; then serve the UI."""
    import os

    from liftwatch.demo import prepare, print_logins

    prepare(elevators=elevators)
    print_logins(host, port)
    # the demo city is alive: its terminals report through the embedded pipeline
    os.environ.setdefault("LIFTWATCH_SIMULATE", "true")
    get_settings.cache_clear()
    serve(host=host, port=port)


@app.command()
def simulate(
    elevators: Annotated[int, typer.Option("--elevators", "-n", min=1, help="how many terminals")] = 1000,
    rate: Annotated[float, typer.Option(min=1.0, help="messages per second to publish")] = 1000.0,
    duration: Annotated[float, typer.Option(min=0.0, help="seconds of wall time to publish for")] = 60.0,
    seed: Annotated[int, typer.Option(help="same seed, same rides and faults")] = 1,
    mqtt: Annotated[str | None, typer.Option(help="MQTT broker, e.g. mqtt://127.0.0.1:1883")] = None,
    http: Annotated[str | None, typer.Option(help="telemetry URL, e.g. http://host/api/v1/telemetry")] = None,
    token: Annotated[str, typer.Option(help="bearer token for --http")] = "",
    nats: Annotated[str | None, typer.Option(help="NATS server, e.g. nats://127.0.0.1:4222")] = None,
    truth: Annotated[Path | None, typer.Option(help="write the injected faults here (JSON lines)")] = None,
    fault_scale: Annotated[float, typer.Option(min=0.0, help="fault rates x this (1 = real life)")] = 1.0,
    database_url: DbOption = None,
) -> None:
    """Simulate IoT terminals (远程监测终端) ride by ride with injected faults, and publish their messages.

    Elevators come from the registry (the first N in use with a terminal, by registration code), else a
    synthetic fleet. Traffic is scaled so the fleet produces about --rate messages/s near real time;
    without --mqtt, --http or --nats the messages are only generated (a dry run)."""
    import time as _time

    from liftwatch.sim.telemetry import (
        FaultRates,
        HttpSink,
        MqttSink,
        NatsSink,
        Sink,
        TelemetrySimulator,
        fleet_from_database,
        publish,
        synthetic_fleet,
        write_truth,
    )

    chosen = [x for x in (mqtt, http, nats) if x]
    if len(chosen) > 1:
        console.print("[red]choose one of --mqtt, --http, --nats[/red]")
        raise typer.Exit(code=1)
    try:
        fleet = fleet_from_database(_url(database_url), elevators)
    except Exception as exc:  # no registry there (not migrated, unreachable): simulate a synthetic fleet
        console.print(f"[yellow]registry not readable ({type(exc).__name__}): synthetic fleet[/yellow]")
        fleet = []
    source = "registry"
    if not fleet:
        fleet, source = synthetic_fleet(elevators, seed), "synthetic"
    rates = FaultRates().scaled(fault_scale)
    start = int(_time.time() * 1000)
    probe = TelemetrySimulator(fleet, seed, start, rates)
    natural = max(1.0, len(probe.run(start + 120_000)) / 120.0)
    traffic = min(max(1.0, rate / natural), 60.0)
    sim = TelemetrySimulator(fleet, seed, start, rates, traffic=traffic)
    sink: Sink | None = None
    try:
        if mqtt:
            sink = MqttSink(mqtt)
        elif http:
            sink = HttpSink(http, token)
        elif nats:
            sink = NatsSink(nats)
    except Exception as exc:
        console.print(f"[red]cannot connect to {chosen[0]}: {exc}[/red]")
        raise typer.Exit(code=1) from None
    console.print(
        f"{len(fleet)} {source} elevators, seed {seed}: ~{natural:.0f} msg/s at real traffic, "
        f"traffic x{traffic:.1f}, publishing {rate:.0f} msg/s for {duration:.0f} s"
    )
    report = publish(sim, sink, rate, duration)
    ahead_s = (report.sim_end_ms - start) / 1000 - report.seconds
    console.print(
        f"[green]sent {report.sent} messages in {report.seconds:.1f} s ({report.rate:,.0f}/s); "
        f"simulated clock {ahead_s:+.0f} s from wall time; {report.truth} faults injected[/green]"
    )
    if truth is not None:
        n = write_truth(truth, sim.truth)
        console.print(f"ground truth: {n} records in {truth}")


if __name__ == "__main__":
    app()
