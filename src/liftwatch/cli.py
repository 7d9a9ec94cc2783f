"""The ``liftwatch`` command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.core.clock import SystemClock
from liftwatch.core.config import city_tz, get_settings
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


@app.callback()
def _configure() -> None:
    """Every command: the settings read (a bad one is one clear line naming it, exit 1) and logging
    configured from them (LIFTWATCH_LOG_LEVEL, LIFTWATCH_LOG_FORMAT, LIFTWATCH_LOG_LEVELS)."""
    from liftwatch.core.logs import configure_logging

    try:
        settings = get_settings()
    except ValidationError as exc:
        for err in exc.errors():
            name = "LIFTWATCH_" + "_".join(str(p) for p in err["loc"]).upper()
            console.print(f"[red]{name}: {err['msg'].removeprefix('Value error, ')}[/red]", highlight=False)
        raise typer.Exit(code=1) from None
    configure_logging(settings.log_level, settings.log_format, settings.log_levels)


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
    """Create or migrate the schema to the newest revision (a database a newer release migrated is left
    alone: exit 0 when this release runs against it, 1 when it cannot)."""
    from alembic.util import CommandError

    from liftwatch.core.migrate import SchemaTooNew, upgrade

    try:
        note = upgrade(_url(database_url), revision)
    except (SchemaTooNew, CommandError) as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(code=1) from None
    if note:
        console.print(f"[yellow]{note}[/yellow]", highlight=False)
        return
    console.print(f"[green]schema at {revision}[/green]")


@db_app.command("current")
def db_current(database_url: DbOption = None) -> None:
    """The database's revision against this release's: exit 0 when this release may run against it."""
    from liftwatch.core.migrate import Verdict, schema_state

    state = schema_state(_url(database_url))
    colour = "green" if state.verdict is Verdict.CURRENT else "yellow" if state.runnable else "red"
    console.print(f"[{colour}]{state.describe()}[/{colour}]", highlight=False)
    if not state.runnable:
        raise typer.Exit(code=1)


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


@users_app.command("api-key")
def users_api_key(
    username: Annotated[str, typer.Option(help="the gateway account the key acts as")],
    name: Annotated[str, typer.Option(help="what the key is for, e.g. the gateway's site")],
    days: Annotated[
        int | None, typer.Option(min=1, help="valid for this many days; default: until revoked")
    ] = None,
    database_url: DbOption = None,
) -> None:
    """Create an API key for a gateway account and print it once: only its hash is stored."""
    from datetime import timedelta

    from liftwatch.accounts.schemas import ApiKeyCreate
    from liftwatch.accounts.service import create_api_key

    clock = SystemClock()
    expires_at = clock.now() + timedelta(days=days) if days else None
    factory = make_session_factory(make_engine(_url(database_url)))
    with _user_errors(), session_scope(factory) as session:
        data = ApiKeyCreate(username=username, name=name, expires_at=expires_at)
        new = create_api_key(session, SYSTEM_ACTOR, data, clock)
    until = f"until {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else "until revoked"
    console.print(
        f"[green]API key {new.record.prefix} for '{username}', valid {until}; "
        "it is shown only now: store it in the gateway[/green]"
    )
    typer.echo(new.key)  # stdout alone carries the key, so it can be piped into the gateway's config


# ------------------------------------------------------------------ rescue crews

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from liftwatch.rescue.service import RescueSettings, StoredCrew

crews_app = typer.Typer(
    help="Rescue crews: add, list, change, stand down; waiting incidents get a free crew at once",
    no_args_is_help=True,
)
app.add_typer(crews_app, name="crews")

CrewIdOption = Annotated[str, typer.Option("--id", help="the crew's id, e.g. MU-A-01")]


@contextmanager
def _unit_of_work(database_url: str | None) -> Iterator[Session]:
    """One transaction on the database (committed when the block ends well), its engine disposed after."""
    engine = make_engine(_url(database_url))
    try:
        with session_scope(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


@contextmanager
def _crew_session(database_url: str | None) -> Iterator[tuple[Session, RescueSettings]]:
    """A unit of work for a crews command, with the rescue settings read once here; bad input is one
    clear line naming the field and exit 1."""
    from liftwatch.rescue.service import RescueSettings as Rescue

    with _user_errors():
        settings = Rescue.for_city(get_settings())
        with _unit_of_work(database_url) as session:
            yield session, settings


def _crew_line(crew: StoredCrew) -> str:
    from liftwatch.rescue.service import format_shift

    state = "on shift" if crew.on_shift else "stood down"
    busy = f", on incident {crew.busy_incident_id}" if crew.busy_incident_id is not None else ""
    return (
        f"{crew.id}\t{crew.unit}\t{crew.name}\t{crew.phone or '-'}\t{crew.username or '-'}\t"
        f"{format_shift(crew) or 'all day'}\t{state}{busy}"
    )


def _crew_done(crew: StoredCrew, what: str, busy_before: int | None) -> None:
    console.print(f"[green]crew '{crew.id}' {what}[/green]", highlight=False)
    if crew.busy_incident_id is not None and crew.busy_incident_id != busy_before:
        console.print(f"[yellow]crew '{crew.id}' dispatched to incident {crew.busy_incident_id}[/yellow]")


@crews_app.command("add")
def crews_add(
    crew_id: CrewIdOption,
    unit: Annotated[str, typer.Option(help="the code of its maintenance unit or rescue station")],
    name: Annotated[str, typer.Option(help="e.g. 浦江一组")],
    lat: Annotated[float, typer.Option(help="where it stands by (latitude)")],
    lon: Annotated[float, typer.Option(help="longitude")],
    phone: Annotated[str, typer.Option(help="the number the centre calls it on")] = "",
    user: Annotated[str | None, typer.Option(help="its login: a user of the same unit")] = None,
    shift: Annotated[
        str, typer.Option(help="daily shift, city time, e.g. 08:00-20:00; default all day")
    ] = "",
    database_url: DbOption = None,
) -> None:
    """Add a crew. Incidents waiting for a crew of its unit (or, escalated, of any unit) get it at once."""
    from liftwatch.rescue.domain import GeoPoint
    from liftwatch.rescue.schemas import CrewIn
    from liftwatch.rescue.service import add_crew, parse_shift

    with _crew_session(database_url) as (session, settings):
        data = CrewIn(
            id=crew_id, unit=unit, name=name, phone=phone, username=user, latitude=lat, longitude=lon
        )
        crew = add_crew(
            session,
            SYSTEM_ACTOR,
            data.id,
            data.unit,
            data.name,
            GeoPoint(data.latitude, data.longitude),
            SystemClock(),
            phone=data.phone,
            username=data.username,
            shift=parse_shift(shift),
            settings=settings,
        )
    _crew_done(crew, f"added to '{crew.unit}'", None)


@crews_app.command("list")
def crews_list(
    unit: Annotated[str | None, typer.Option(help="only this unit's crews")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON, one object per crew")] = False,
    database_url: DbOption = None,
) -> None:
    """List crews: id, unit, name, phone, login, shift, on shift or stood down, current incident."""
    import json

    from liftwatch.rescue.schemas import CrewOut
    from liftwatch.rescue.service import list_crews

    with _crew_session(database_url) as (session, _):
        crews = list_crews(session, SYSTEM_ACTOR, unit)
        if as_json:
            typer.echo(json.dumps([CrewOut.model_validate(c).model_dump(mode="json") for c in crews]))
        else:
            for crew in crews:
                typer.echo(_crew_line(crew))
    if not as_json:
        console.print(f"{len(crews)} crews")


@crews_app.command("update")
def crews_update(
    crew_id: CrewIdOption,
    name: Annotated[str | None, typer.Option()] = None,
    phone: Annotated[str | None, typer.Option(help='"" removes it')] = None,
    unit: Annotated[str | None, typer.Option(help="move it to another unit")] = None,
    lat: Annotated[float | None, typer.Option(help="with --lon: where it stands by")] = None,
    lon: Annotated[float | None, typer.Option()] = None,
    user: Annotated[str | None, typer.Option(help='its login (a user of its unit); "" unbinds it')] = None,
    shift: Annotated[str | None, typer.Option(help='HH:MM-HH:MM, city time; "" all day')] = None,
    database_url: DbOption = None,
) -> None:
    """Change a crew; only the options given change."""
    from liftwatch.core.errors import InvalidInput
    from liftwatch.rescue.domain import GeoPoint
    from liftwatch.rescue.service import CrewChange, get_crew, update_crew

    with _crew_session(database_url) as (session, settings):
        if (lat is None) != (lon is None):
            raise InvalidInput(FieldError("lat" if lat is None else "lon", "--lat and --lon go together"))
        position = GeoPoint(lat, lon) if lat is not None and lon is not None else None
        busy = get_crew(session, SYSTEM_ACTOR, crew_id).busy_incident_id
        change = CrewChange(name=name, phone=phone, unit=unit, position=position, username=user, shift=shift)
        crew = update_crew(session, SYSTEM_ACTOR, crew_id, change, SystemClock(), settings)
    _crew_done(crew, "changed", busy)


def _crews_on_shift(crew_id: str, on_shift: bool, database_url: str | None) -> None:
    from liftwatch.rescue.service import get_crew, set_crew_on_shift

    with _crew_session(database_url) as (session, settings):
        busy = get_crew(session, SYSTEM_ACTOR, crew_id).busy_incident_id
        crew = set_crew_on_shift(session, SYSTEM_ACTOR, crew_id, on_shift, SystemClock(), settings)
    _crew_done(crew, "back on shift" if on_shift else "stood down (keeps a job it has)", busy)


@crews_app.command("disable")
def crews_disable(crew_id: CrewIdOption, database_url: DbOption = None) -> None:
    """Stand a crew down (leave, vehicle out of service): no new jobs; a job it has stays its own."""
    _crews_on_shift(crew_id, False, database_url)


@crews_app.command("enable")
def crews_enable(crew_id: CrewIdOption, database_url: DbOption = None) -> None:
    """Bring a crew back on shift; a waiting incident gets it at once."""
    _crews_on_shift(crew_id, True, database_url)


@registry_app.command("import")
def registry_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".csv or .xlsx")],
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="import the good rows")] = False,
    rejects: Annotated[Path | None, typer.Option(help="where bad rows go with --skip-invalid")] = None,
    update: Annotated[
        bool, typer.Option("--update", help="a registered elevator's row updates it (an edited export)")
    ] = False,
    database_url: DbOption = None,
) -> None:
    """Import elevators (and the units they name) from an agency's CSV or Excel file; with --update, the
    rows of registered elevators update them (each change on the elevator's timeline)."""
    from liftwatch.registry.io import import_file

    factory = make_session_factory(make_engine(_url(database_url)))
    with _user_errors(), session_scope(factory) as session:
        report = import_file(
            session,
            SYSTEM_ACTOR,
            file,
            SystemClock(),
            skip_invalid=skip_invalid,
            rejects_path=rejects,
            upsert=update,
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
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="web processes sharing the port (several need LIFTWATCH_PIPELINE=false and NATS)"
        ),
    ] = 1,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            help="proxies whose X-Forwarded-For/-Proto are believed (comma-separated addresses, or *): "
            "the load balancer's, so sign-in throttling counts each client's address, not the proxy's"
        ),
    ] = "127.0.0.1",
) -> None:
    """Serve the API and web UI (the schema must be at this release's revision, or a newer one it runs
    with). Behind a load balancer: --forwarded-allow-ips <its address>; at the root of its host name (the
    pages link from /)."""
    import uvicorn

    from liftwatch.app import create_app
    from liftwatch.core.migrate import pending

    settings = get_settings()
    problem = pending(settings.resolved_database_url)
    if problem:
        console.print(f"[red]{problem}[/red]")
        raise typer.Exit(code=1)
    if workers > 1 and settings.pipeline:
        console.print(
            "[red]--workers: more than one web process needs LIFTWATCH_PIPELINE=false and the workers "
            "running on NATS (liftwatch worker); the embedded pipeline runs in one process only[/red]"
        )
        raise typer.Exit(code=1)
    # log_config=None: uvicorn's own loggers (uvicorn.error, uvicorn.access) keep no handler of their own
    # and reach the one configured for every command, in its format and at its levels
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        "log_level": None,
        "proxy_headers": True,
        "forwarded_allow_ips": forwarded_allow_ips,
    }
    if workers == 1:
        uvicorn.run(create_app(), **common)
    else:  # each process builds its own app (and configures its logging) from the same settings
        uvicorn.run("liftwatch.app:create_served_app", factory=True, workers=workers, **common)


@app.command()
def worker(
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="ingest, detect, archive, rescue, maintenance (repeat; default all)"),
    ] = None,
    partitions: Annotated[
        str | None,
        typer.Option(
            help="partitions this process detects, e.g. 0,1 (default all); `leased`: shared with every other "
            "process started so, each partition owned by one at a time and taken over when its owner dies"
        ),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="serve /metrics, /healthz and /readyz on this port (0: off; default by role: ingest "
            "9108, archive 9109, rescue 9110, maintenance 9120, detect 9111 + first partition; several "
            "roles: the first's)"
        ),
    ] = None,
    client_id: Annotated[str | None, typer.Option(help="stable MQTT client id (default: per host)")] = None,
) -> None:
    """Run long-running workers: ingest (MQTT, NATS -> stream), detect (faults), archive (Parquet),
    rescue (faults -> incidents, deadlines). Exit 1 when one cannot go on, so its supervisor restarts it."""
    import asyncio
    import logging
    import signal
    import socket

    from liftwatch.core.migrate import pending
    from liftwatch.telemetry.service import detector_settings_from_env
    from liftwatch.workers import ROLES, Pipeline, default_metrics_port

    settings = get_settings()
    try:  # the fault rules' thresholds, read once here and handed to the detector workers
        detector_settings = detector_settings_from_env()
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=1) from None
    roles = frozenset(role or ROLES)
    if roles - ROLES:
        console.print(f"[red]--role: expected one of {', '.join(sorted(ROLES))}[/red]")
        raise typer.Exit(code=1)
    if not settings.bus_url and roles != ROLES:
        console.print("[red]split roles need a shared bus: set LIFTWATCH_BUS_URL=nats://...[/red]")
        raise typer.Exit(code=1)
    if "ingest" in roles and not settings.mqtt_url:
        logging.getLogger("liftwatch.worker").warning(
            "LIFTWATCH_MQTT_URL is not set: only the HTTP endpoint of the web can ingest"
        )
    problem = pending(settings.resolved_database_url)
    if problem:
        console.print(f"[red]{problem}[/red]")
        raise typer.Exit(code=1)
    parts: list[int] | None = None
    leased = partitions == "leased"
    if leased and not settings.bus_url:
        console.print(
            "[red]--partitions leased shares partitions between processes: it needs LIFTWATCH_BUS_URL[/red]"
        )
        raise typer.Exit(code=1)
    if partitions and not leased:
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

    log = logging.getLogger("liftwatch.worker")  # its lines in the log's format (JSON too), not the console's

    async def main() -> int:
        from liftwatch.core.probes import serve_probes

        engine = make_engine(settings.resolved_database_url)
        pipeline = Pipeline(
            settings,
            make_session_factory(engine),
            SystemClock(),
            roles=roles,
            partitions=parts,
            leased=leased,
            detector_settings=detector_settings,
        )
        probes = None
        port = default_metrics_port(roles, parts) if metrics_port is None else metrics_port
        if port:
            probes = await serve_probes("0.0.0.0", port, pipeline.metrics.registry, pipeline.health)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await pipeline.start()
        except (ConnectionError, OSError, TimeoutError) as exc:  # MqttRefused is a ConnectionError
            log.error("cannot start: %s", exc)
            await pipeline.kill()
            if probes is not None:
                probes.close()
            engine.dispose()
            return 1
        log.info("workers running: %s", ", ".join(sorted(roles)))
        stopping = asyncio.create_task(stop.wait())
        failing = asyncio.create_task(pipeline.failed.wait())
        await asyncio.wait({stopping, failing}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        failing.cancel()
        code = 0
        if pipeline.failed.is_set():
            # unrecoverable: stop what still runs (draining what can be), exit non-zero, be restarted
            log.error("worker failed: %s", pipeline.failure)
            code = 1
        else:
            log.info("stopping: draining, flushing and checkpointing")
        await pipeline.stop()
        if probes is not None:
            probes.close()
        engine.dispose()
        return code

    raise typer.Exit(code=asyncio.run(main()))


# the command's name before issue 10; kept so that existing supervisor units go on working
app.command("ingest", hidden=True, deprecated=True, help="Deprecated: use `liftwatch worker`.")(worker)


@app.command("replay-dead-letters")
def replay_dead_letters(
    code: Annotated[
        list[str] | None, typer.Option("--code", help="only these elevators (repeat); default: all")
    ] = None,
) -> None:
    """Feed the unknown_elevator dead letters of elevators registered since through ingestion again.

    A running ingest process does this by itself when an elevator is registered; this command is for
    letters it missed. It needs LIFTWATCH_BUS_URL: the in-process bus of the embedded server is not
    reachable from here, and the embedded server replays on its own (at registration, else within 5 min)."""
    import asyncio

    from liftwatch.workers import Pipeline

    settings = get_settings()
    if not settings.bus_url:
        console.print(
            "[red]LIFTWATCH_BUS_URL is not set: the embedded server replays these letters itself "
            "as elevators are registered[/red]"
        )
        raise typer.Exit(code=1)

    async def main() -> int:
        engine = make_engine(settings.resolved_database_url)
        pipeline = Pipeline(
            settings, make_session_factory(engine), SystemClock(), roles=frozenset({"ingest"})
        )
        pipeline.adapters = False
        await pipeline.start()
        try:
            n = await pipeline.replay_unknown(code or None)
        finally:
            await pipeline.stop()  # drains: what was accepted is on the stream
            engine.dispose()
        console.print(f"[green]{n} dead letters accepted on replay[/green]")
        return 0

    raise typer.Exit(code=asyncio.run(main()))


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
    # the demo city is alive: its terminals report through the embedded workers
    os.environ.setdefault("LIFTWATCH_SIMULATE", "true")
    get_settings.cache_clear()
    serve(host=host, port=port)


@app.command()
def simulate(
    elevators: Annotated[
        int,
        typer.Option(
            "--elevators",
            "-n",
            min=1,
            help="how many terminals: the first N registry elevators in use with one (a warning when there "
            "are fewer), else N synthetic ones",
        ),
    ] = 1000,
    rate: Annotated[
        float,
        typer.Option(
            min=1.0,
            help="messages per second, at most: reached by more rides per elevator (traffic up to x60), "
            "never by running the simulated clock ahead of the wall clock",
        ),
    ] = 1000.0,
    duration: Annotated[
        float, typer.Option(min=0.0, help="seconds of wall time to publish for; 0: until Ctrl-C")
    ] = 60.0,
    seed: Annotated[int, typer.Option(help="same seed, same rides and faults")] = 1,
    mqtt: Annotated[str | None, typer.Option(help="MQTT broker, e.g. mqtt://127.0.0.1:1883")] = None,
    http: Annotated[str | None, typer.Option(help="telemetry URL, e.g. http://host/api/v1/telemetry")] = None,
    token: Annotated[str, typer.Option(help="bearer token for --http")] = "",
    nats: Annotated[str | None, typer.Option(help="NATS server, e.g. nats://127.0.0.1:4222")] = None,
    truth: Annotated[Path | None, typer.Option(help="write the injected faults here (JSON lines)")] = None,
    fault_scale: Annotated[float, typer.Option(min=0.0, help="fault rates x this (1 = real life)")] = 1.0,
    faults: Annotated[
        str | None,
        typer.Option(help="only these fault scenarios, e.g. entrapment,power_cut (default: every kind)"),
    ] = None,
    database_url: DbOption = None,
) -> None:
    """Simulate IoT terminals (远程监测终端) ride by ride with injected faults, and publish their messages.

    Elevators come from the registry (the first N in use with a terminal, by registration code), else a
    synthetic fleet. Traffic is scaled so the fleet produces about --rate messages/s in real time: a message
    is sent once the wall clock reaches it, so no timestamp is ever ahead of the platform's clock (no false
    clock_skew). Without --mqtt, --http or --nats the messages are only generated (a dry run)."""
    import sys
    import time as _time
    from datetime import UTC, datetime

    from liftwatch.sim.progress import PublishProgress
    from liftwatch.sim.telemetry import (
        FaultRates,
        HttpSink,
        MqttSink,
        NatsSink,
        Sink,
        TelemetrySimulator,
        calibrate,
        fleet_from_database,
        publish,
        synthetic_fleet,
        write_truth,
    )
    from liftwatch.telemetry.service import detector_settings_from_env

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
    if fleet and len(fleet) < elevators:  # say so: a load test must not think it ran at the size asked
        console.print(
            f"[yellow]asked for {elevators:,} elevators, but the registry has only {len(fleet):,} in use "
            f"with an IoT terminal: simulating those {len(fleet):,}[/yellow]"
        )
    if not fleet:
        fleet, source = synthetic_fleet(elevators, seed), "synthetic"
    rates = FaultRates().scaled(fault_scale)
    if faults:
        from liftwatch.telemetry.faults import FaultType

        known = {t.value: t for t in FaultType}
        asked = [f.strip() for f in faults.split(",") if f.strip()]
        unknown = [f for f in asked if f not in known]
        if unknown or not asked:
            console.print(
                f"[red]--faults: unknown {', '.join(unknown) or '(none given)'}; one of "
                f"{', '.join(sorted(rates.per_day))}[/red]"
            )
            raise typer.Exit(code=1)
        rates = rates.only(known[f] for f in asked)
    # the injected faults stay clear of the thresholds the detector runs with (LIFTWATCH_DETECTOR_*)
    try:
        thresholds = detector_settings_from_env()
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=1) from None
    start = int(_time.time() * 1000)
    tz = city_tz(get_settings())
    fit = calibrate(fleet, rate, seed, start, rates, thresholds, tz)
    natural, traffic = fit.natural, fit.traffic
    if fit.reachable < rate * 0.9:
        console.print(
            f"[yellow]{len(fleet):,} elevators make about {fit.reachable:,.0f} msg/s in real time (traffic "
            f"x{traffic:.0f}): publishing that, not --rate {rate:,.0f}; ask for more --elevators[/yellow]"
        )
    sim = TelemetrySimulator(fleet, seed, start, rates, thresholds, traffic=traffic, tz=tz)
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
        f"traffic x{traffic:.1f}, publishing up to {rate:.0f} msg/s "
        + (f"for {duration:.0f} s" if duration > 0 else "until Ctrl-C")
    )
    with PublishProgress(console, duration, tty=sys.stdout.isatty()) as progress:
        report = publish(sim, sink, rate, duration, progress=progress.update)
    console.print(
        f"[green]sent {report.sent:,} messages in {report.seconds:.1f} s ({report.rate:,.0f}/s); "
        f"simulated clock {report.lag_ms / 1000:.1f} s behind the wall clock; "
        f"{report.truth} faults injected[/green]"
    )
    # what was published: a fault the simulator had begun past the last message sent never reached anyone
    injected = [r for r in sim.truth if r.start_ms <= report.sim_end_ms]
    by_type: dict[str, int] = {}
    for r in injected:
        by_type[r.fault_type.value] = by_type.get(r.fault_type.value, 0) + 1
    last = datetime.fromtimestamp(report.sim_end_ms / 1000, UTC).isoformat(timespec="milliseconds")
    console.print(
        f"faults injected up to the last message ({last.replace('+00:00', 'Z')}): "
        + (", ".join(f"{k} {v}" for k, v in sorted(by_type.items())) or "none"),
        highlight=False,
        soft_wrap=True,  # one line, for whoever reads it back
    )
    if truth is not None:
        n = write_truth(truth, injected)
        console.print(f"ground truth: {n} records in {truth}")


# ------------------------------------------------------------------ one host, supervised


@app.command()
def supervise(
    procfile: Annotated[Path, typer.Option(help="the processes, one 'name: command' a line")] = Path(
        "deploy/Procfile"
    ),
    grace: Annotated[
        float, typer.Option(min=0.0, help="seconds between SIGTERM and SIGKILL when stopping")
    ] = 30.0,
    max_fast_failures: Annotated[
        int, typer.Option(min=1, help="failures in a row within 10 s of starting before giving up")
    ] = 5,
    compose: Annotated[
        bool, typer.Option("--compose", help="print the compose file of these processes instead")
    ] = False,
    systemd: Annotated[
        bool, typer.Option("--systemd", help="print a systemd unit per process instead")
    ] = False,
) -> None:
    """Run every process of a Procfile on this host (docs/OPERATIONS.md, "Running on one host"): each
    output line with its name, a failed process restarted with backoff, SIGINT/SIGTERM passed on as
    SIGTERM, SIGKILL after --grace; exit 1 when one keeps failing at start."""
    import asyncio

    from liftwatch.core import supervise as sv

    try:
        specs = sv.load_procfile(procfile)
    except (OSError, sv.ProcfileError) as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(code=1) from None
    if compose or systemd:
        typer.echo(sv.compose_file(specs) if compose else sv.systemd_units(specs), nl=False)
        return
    policy = sv.RestartPolicy(max_fast_failures=max_fast_failures)
    raise typer.Exit(code=asyncio.run(sv.Supervisor(specs, policy, grace_s=grace).run()))


# ------------------------------------------------------------------ broker accounts

broker_app = typer.Typer(
    help="Broker accounts: per-terminal credentials and the Mosquitto and NATS files", no_args_is_help=True
)
app.add_typer(broker_app, name="broker")


@broker_app.command("issue")
def broker_issue(
    all_terminals: Annotated[
        bool, typer.Option("--all", help="every elevator with a terminal that has no credential yet")
    ] = False,
    code: Annotated[list[str] | None, typer.Option("--code", help="this elevator (repeat)")] = None,
    rotate: Annotated[bool, typer.Option(help="replace a live credential of a --code")] = False,
    out: Annotated[
        Path | None, typer.Option(help="write the provisioning CSV here (a new file); default: print it")
    ] = None,
    database_url: DbOption = None,
) -> None:
    """Issue broker passwords. They are shown ONCE (CSV: registration_code, username, password, ...);
    only their hashes are kept. Then run `liftwatch broker config` and reload the brokers."""
    import os

    from liftwatch.telemetry.brokerauth import issue_credentials, issued_csv

    if all_terminals == bool(code):
        console.print("[red]choose --all or --code[/red]")
        raise typer.Exit(code=1)
    if out is not None and out.exists():
        console.print(f"[red]--out: {out} exists (it may hold passwords not yet provisioned)[/red]")
        raise typer.Exit(code=1)
    factory = make_session_factory(make_engine(_url(database_url)))
    with _user_errors(), factory() as session:
        issued = issue_credentials(session, SystemClock(), None if all_terminals else code, rotate=rotate)
        sheet = issued_csv(issued)
        if out is not None:
            # the file exists before the commit, so no password is ever stored without being handed out
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(sheet)
        try:
            session.commit()
        except Exception:
            if out is not None:
                out.unlink(missing_ok=True)
            raise
    if out is None:
        typer.echo(sheet, nl=False)
    console.print(
        f"[green]issued {len(issued)} credentials{f' into {out}' if out else ''}; "
        "now `liftwatch broker config` and reload the brokers[/green]"
    )


@broker_app.command("revoke")
def broker_revoke(
    code: Annotated[str, typer.Option("--code", help="the elevator's registration code")],
    database_url: DbOption = None,
) -> None:
    """Revoke a terminal's credential (left out of the next `liftwatch broker config`)."""
    from liftwatch.telemetry.brokerauth import revoke_credential

    factory = make_session_factory(make_engine(_url(database_url)))
    with _user_errors(), session_scope(factory) as session:
        revoke_credential(session, code, SystemClock())
    console.print(f"[green]revoked '{code}'; regenerate the broker files and reload the brokers[/green]")


@broker_app.command("config")
def broker_config(
    out: Annotated[Path, typer.Option(help="directory for the four files")],
    ingest_user: Annotated[
        str | None, typer.Option(help="MQTT service account of the ingest (default LIFTWATCH_MQTT_USERNAME)")
    ] = None,
    nats_user: Annotated[
        str | None, typer.Option(help="NATS service account (default: the user in LIFTWATCH_BUS_URL)")
    ] = None,
    listener_port: Annotated[int, typer.Option(help="Mosquitto listener port")] = 8883,
    listener_address: Annotated[str, typer.Option(help="bind address (default all)")] = "",
    tls_cert: Annotated[str, typer.Option(help="broker certificate (PEM) on the broker host")] = "",
    tls_key: Annotated[str, typer.Option(help="its private key")] = "",
    tls_ca: Annotated[str, typer.Option(help="CA certificate (PEM), optional")] = "",
    conf_dir: Annotated[
        str, typer.Option(help="where mosquitto.passwd/.acl will be on the broker host")
    ] = "/etc/mosquitto",
    database_url: DbOption = None,
) -> None:
    """Write mosquitto.passwd, mosquitto.acl, mosquitto.conf and nats-auth.conf from the live terminal
    credentials and the service accounts. Service passwords come from the environment:
    LIFTWATCH_MQTT_PASSWORD (ingest) and the password in LIFTWATCH_BUS_URL (nats://user:pass@host)."""
    from urllib.parse import urlsplit

    from liftwatch.core.bus import nats_servers
    from liftwatch.telemetry.brokerauth import BrokerLayout, ServiceAccount, write_broker_config
    from liftwatch.telemetry.mqtt import parse_broker_url

    settings = get_settings()
    if bool(tls_cert) != bool(tls_key):
        console.print("[red]--tls-cert and --tls-key go together[/red]")
        raise typer.Exit(code=1)
    mqtt_addr = parse_broker_url(settings.mqtt_url) if settings.mqtt_url else None
    ingest_name = ingest_user or settings.mqtt_username or (mqtt_addr.username if mqtt_addr else None)
    ingest_pw = settings.mqtt_password or (mqtt_addr.password if mqtt_addr else None)
    ingest = None
    if ingest_name:
        if not ingest_pw:
            console.print("[red]the ingest account needs LIFTWATCH_MQTT_PASSWORD[/red]")
            raise typer.Exit(code=1)
        ingest = ServiceAccount(ingest_name, ingest_pw)
    else:
        console.print("[yellow]no ingest account (LIFTWATCH_MQTT_USERNAME): nothing may subscribe[/yellow]")
    # as nats-py sends them: it does not percent-decode the URL's user and password
    bus = urlsplit(nats_servers(settings.bus_url)[0]) if settings.bus_url else None
    nats_name = nats_user or (bus.username if bus else None)
    nats_pw = bus.password if bus else None
    nats = None
    if nats_name:
        if not nats_pw:
            console.print("[red]the NATS service account needs its password in LIFTWATCH_BUS_URL[/red]")
            raise typer.Exit(code=1)
        nats = ServiceAccount(nats_name, nats_pw)
    else:
        console.print("[yellow]no NATS service account (nats://user:pass@host in LIFTWATCH_BUS_URL)[/yellow]")
    layout = BrokerLayout(
        mqtt_ingest=ingest,
        nats_service=nats,
        group=settings.mqtt_group,
        namespace=settings.stream_namespace,
        listener_port=listener_port,
        listener_address=listener_address,
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_ca=tls_ca,
        conf_dir=conf_dir,
    )
    factory = make_session_factory(make_engine(_url(database_url)))
    with _user_errors(), factory() as session:
        paths = write_broker_config(session, out, layout)
    for path in paths:
        console.print(f"wrote {path}")


# ------------------------------------------------------------------ settings table and doctor

if TYPE_CHECKING:
    from liftwatch.core.settings_table import Group as SettingsGroup


def settings_groups() -> list[SettingsGroup]:
    """Every settings group of the package, for the one generated table
    (tests/unit/core/test_settings_table.py checks that no BaseSettings class is left out)."""
    from liftwatch.applications.settings import settings_group as application_settings_group
    from liftwatch.assessment.settings import settings_group as assessment_settings_group
    from liftwatch.complaints.settings import settings_group as complaint_settings_group
    from liftwatch.core.config import Settings
    from liftwatch.core.settings_table import pydantic_group, struct_group
    from liftwatch.costs.settings import settings_group as cost_settings_group
    from liftwatch.insurance.settings import settings_group as insurance_settings_group
    from liftwatch.parts.settings import settings_group as part_settings_group
    from liftwatch.people.settings import settings_group as people_settings_group
    from liftwatch.ratings.settings import settings_group as rating_settings_group
    from liftwatch.rescue.service import RescueSettings
    from liftwatch.risk.settings import settings_group as risk_settings_group
    from liftwatch.telemetry.faults import DetectorSettings
    from liftwatch.telemetry.service import DETECTOR_ENV_PREFIX

    return [
        pydantic_group("Core (LIFTWATCH_*)", Settings),
        # the rescue timezone is LIFTWATCH_TIMEZONE's (RescueSettings.for_city), not a variable of its own
        pydantic_group("Rescue (LIFTWATCH_RESCUE_*)", RescueSettings, exclude=("timezone",)),
        struct_group(
            "Fault-rule thresholds (LIFTWATCH_DETECTOR_*, milliseconds unless named; docs/PROTOCOL.md)",
            DetectorSettings,
            DETECTOR_ENV_PREFIX,
        ),
        risk_settings_group(),
        rating_settings_group(),
        insurance_settings_group(),
        assessment_settings_group(),
        complaint_settings_group(),
        cost_settings_group(),
        part_settings_group(),
        people_settings_group(),
        application_settings_group(),
    ]


@app.command("settings")
def settings_command(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Markdown tables, as in docs/OPERATIONS.md")
    ] = False,
    update: Annotated[
        Path | None,
        typer.Option(help="Write the Markdown tables into this file between its settings markers"),
    ] = None,
) -> None:
    """Every setting (environment variable or .env line) with its default and meaning."""
    from liftwatch.core import settings_table

    groups = settings_groups()
    if update is not None:
        try:
            updated = settings_table.replace_between_markers(
                update.read_text(), settings_table.markdown(groups)
            )
        except (OSError, ValueError) as exc:
            console.print(f"[red]{update}: {exc}[/red]", highlight=False)
            raise typer.Exit(code=1) from None
        update.write_text(updated)
        console.print(f"updated the settings table in {update}", highlight=False)
        return
    typer.echo(settings_table.markdown(groups) if markdown else settings_table.text(groups), nl=False)


@app.command()
def doctor(
    timeout: Annotated[float, typer.Option(help="Seconds each probe may take")] = 3.0,
) -> None:
    """Check this host's production configuration (secret, cookie, database, NATS streams, MQTT broker
    authentication, clock, archive) and say what to fix; exit 1 on any FAIL."""
    from liftwatch.core import doctor as checks
    from liftwatch.telemetry.natsraw import raw_stream_name
    from liftwatch.telemetry.records import Topology

    settings = get_settings()
    topo = Topology(settings.stream_namespace)
    mb = 1024 * 1024
    streams = [
        checks.StreamSpec(topo.stream, settings.stream_max_mb * mb, "LIFTWATCH_STREAM_MAX_MB"),
        checks.StreamSpec(
            topo.faults_stream, settings.faults_stream_max_mb * mb, "LIFTWATCH_FAULTS_STREAM_MAX_MB"
        ),
        checks.StreamSpec(raw_stream_name(settings.stream_namespace), optional=True),
    ]
    found = checks.run(settings, streams, timeout)
    typer.echo(checks.render(found, checks.is_production(settings)), nl=False)
    raise typer.Exit(code=checks.exit_code(found))


# ------------------------------------------------------------------ retention


@app.command()
def prune(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would go; remove nothing")] = False,
    only: Annotated[
        str | None, typer.Option("--only", help="Only this part: archive, faults or dead-letters")
    ] = None,
    database_url: DbOption = None,
) -> None:
    """Remove what is older than the retention settings (LIFTWATCH_RETAIN_*; docs/OPERATIONS.md
    "Retention"): archive days, resolved faults (never open ones or those an incident names), dead letters."""
    from sqlalchemy import select

    from liftwatch.rescue.models import Incident, IncidentFault
    from liftwatch.telemetry import retention

    if only is not None and only not in retention.PARTS:
        console.print(f"[red]--only: one of {', '.join(retention.PARTS)}[/red]", highlight=False)
        raise typer.Exit(code=1)
    settings = get_settings()
    engine = make_engine(_url(database_url))
    try:
        with _user_errors(), make_session_factory(engine)() as session:
            report = retention.prune(
                session,
                SystemClock(),
                settings,
                dry_run=dry_run,
                only=only,  # checked against PARTS above
                # every fault an incident took in (opened or joined); incidents.fault_id for those a
                # release before 0012 opened
                keep_fault_ids=select(IncidentFault.fault_id).union(
                    select(Incident.fault_id).where(Incident.fault_id.is_not(None))
                ),
            )
            session.commit()
    finally:
        engine.dispose()
    for line in report.lines():
        typer.echo(line)


# ------------------------------------------------------------------ streams

streams_app = typer.Typer(
    help="JetStream streams: compare with and apply the settings (docs/OPERATIONS.md, Streams)",
    no_args_is_help=True,
)
app.add_typer(streams_app, name="streams")


def _stream_bus_url() -> str:
    url = get_settings().bus_url
    if not url.startswith(("nats://", "tls://")):
        console.print("[red]LIFTWATCH_BUS_URL is not NATS: in-process streams have nothing to show[/red]")
        raise typer.Exit(code=1)
    return url


@streams_app.command("show")
def streams_show() -> None:
    """Each stream's current configuration next to what the settings say; exit 1 if any differs."""
    import asyncio

    from liftwatch.core.bus import JetStreamBus, stream_differences
    from liftwatch.workers import stream_specs

    specs = stream_specs(get_settings())

    async def main() -> int:
        bus = JetStreamBus(_stream_bus_url(), name="liftwatch-streams")
        await bus.connect()
        differ = 0
        try:
            for spec in specs.values():
                current = await bus.stream_config(spec.name)
                typer.echo(f"{spec.name} (settings: {spec.settings})")
                if current is None:
                    typer.echo("  missing: the next process to start creates it (or streams apply)")
                    continue
                for key, want in spec.config().items():
                    now = current.get(key)
                    mark = "  " if now == want else "* "
                    differ += now != want
                    typer.echo(f"  {mark}{key}: {now!r}" + ("" if now == want else f" (settings: {want!r})"))
                if stream_differences(current, spec.config()):
                    typer.echo("  differs from the settings (* ): `liftwatch streams apply` applies them")
        finally:
            await bus.close()
        return 1 if differ else 0

    raise typer.Exit(code=asyncio.run(main()))


@streams_app.command("apply")
def streams_apply(
    yes: Annotated[bool, typer.Option("--yes", help="Apply without asking")] = False,
) -> None:
    """Update (or create) the streams to match the settings. Refuses changes NATS cannot make on an existing
    stream (storage, retention); lowering a size or age limit drops the oldest messages at once."""
    import asyncio

    from liftwatch.core.bus import (
        IMMUTABLE_STREAM_FIELDS,
        JetStreamBus,
        describe_differences,
        stream_differences,
    )
    from liftwatch.workers import stream_specs

    specs = stream_specs(get_settings())

    async def main() -> int:
        bus = JetStreamBus(_stream_bus_url(), name="liftwatch-streams")
        await bus.connect()
        failed = 0
        try:
            for spec in specs.values():
                current = await bus.stream_config(spec.name)
                diffs = [] if current is None else stream_differences(current, spec.config())
                if current is not None and not diffs:
                    typer.echo(f"{spec.name}: matches the settings")
                    continue
                fixed = [d for d in diffs if d[0] in IMMUTABLE_STREAM_FIELDS]
                if fixed:
                    typer.echo(
                        f"{spec.name}: NATS cannot change {describe_differences(fixed)} on an existing "
                        "stream; left as it is (docs/OPERATIONS.md, Streams)",
                        err=True,
                    )
                    failed += 1
                    continue
                what = "create it" if current is None else describe_differences(diffs)
                if not yes and not typer.confirm(f"{spec.name}: {what}. Apply?"):
                    typer.echo(f"{spec.name}: left as it is")
                    continue
                try:
                    await bus.apply_stream(spec)
                except Exception as exc:  # the server's refusal (e.g. replicas without a cluster)
                    typer.echo(f"{spec.name}: NATS refused: {exc}", err=True)
                    failed += 1
                    continue
                typer.echo(f"{spec.name}: {'created' if current is None else 'updated: ' + what}")
        finally:
            await bus.close()
        return 1 if failed else 0

    raise typer.Exit(code=asyncio.run(main()))


# ------------------------------------------------------------------ restore


@app.command("rewind-rescue")
def rewind_rescue(
    since: Annotated[
        str, typer.Option("--since", help="When the dump started, with its zone: 2026-12-03T02:00:00Z")
    ],
    margin_s: Annotated[
        float, typer.Option("--margin-s", help="Seconds earlier still (clocks of the hosts differ)")
    ] = 60.0,
    database_url: DbOption = None,
) -> None:
    """After a restore, before the workers start: checks that the restored telemetry stream is not older
    than the restored database's detector checkpoints (exit 1 if it is), then makes the rescue workers
    read again the fault changes published since the dump began, so that incidents the restored database
    lacks are opened (once: idempotent on fault_id). docs/OPERATIONS.md, "Backups"."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from liftwatch.core.backup import checkpoint_problems, rewind_consumer, stream_position
    from liftwatch.telemetry.records import Topology
    from liftwatch.telemetry.service import load_checkpoint

    try:
        at = datetime.fromisoformat(since)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        console.print(f"[red]--since {since!r}: a time with its zone, e.g. 2026-12-03T02:00:00Z[/red]")
        raise typer.Exit(code=1)
    settings = get_settings()
    topo = Topology(settings.stream_namespace)
    bus_url = _stream_bus_url()
    engine = make_engine(_url(database_url))
    try:
        with make_session_factory(engine)() as session:
            saved = {p: load_checkpoint(session, p) for p in range(settings.partitions)}
            checkpoints = {p: (c.stream_seq, c.stream_epoch) for p, c in saved.items() if c is not None}
    finally:
        engine.dispose()
    position = asyncio.run(stream_position(bus_url, topo.stream))
    if position is None:
        typer.echo(f"{topo.stream}: missing; the workers create it and the detectors start on the new stream")
    else:
        problems = checkpoint_problems(checkpoints, topo.stream, *position)
        for line in problems:
            console.print(f"[red]{line}[/red]", highlight=False)
        if problems:
            raise typer.Exit(code=1)
        typer.echo(f"{topo.stream}: ends at seq {position[1]}; the detector checkpoints are within it")
    if asyncio.run(stream_position(bus_url, topo.faults_stream)) is None:
        typer.echo(f"{topo.faults_stream}: missing; nothing to rewind (its changes since the dump are lost)")
        return
    # "rescue-intake" is the rescue worker's durable consumer (rescue/intake.py)
    done = asyncio.run(
        rewind_consumer(
            bus_url,
            topo.faults_stream,
            "rescue-intake",
            topo.faults_subjects,
            at.astimezone(UTC) - timedelta(seconds=margin_s),
        )
    )
    was = "did not exist" if done.previous_next is None else f"stood at {done.previous_next}"
    typer.echo(
        f"{done.stream}/{done.durable}: {was}; now delivers from {done.start_seq} "
        f"({done.reread} fault changes to read again; the stream holds {done.first_seq}..{done.last_seq})"
    )


risk_app = typer.Typer(help="Risk grading (风险分级)", no_args_is_help=True)
app.add_typer(risk_app, name="risk")


@risk_app.command("recompute")
def risk_recompute(
    database_url: DbOption = None,
    district: Annotated[str | None, typer.Option(help="only the elevators of this district")] = None,
    code: Annotated[
        list[str] | None, typer.Option("--code", help="only these elevators (repeat the option)")
    ] = None,
) -> None:
    """Score every elevator in use (or a district's, or the given ones) and store the scores with their
    explanations; prints the elevators per grade and the seconds taken (docs/RISK.md)."""
    from liftwatch.risk.service import recompute
    from liftwatch.risk.settings import risk_settings_from_env

    with _user_errors():
        try:
            weights = risk_settings_from_env()
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]", highlight=False)
            raise typer.Exit(code=1) from None
        with _unit_of_work(database_url) as session:
            done = recompute(session, SystemClock(), get_settings(), weights, codes=code, district=district)
    grades = "  ".join(f"{g.value} {n}" for g, n in done.by_grade.items())
    typer.echo(f"{done.elevators} elevators scored: {grades}; {done.dropped} dropped; {done.seconds} s")


ratings_app = typer.Typer(help="Maintenance-unit ratings (星级评定, 红黑榜)", no_args_is_help=True)
app.add_typer(ratings_app, name="ratings")


@ratings_app.command("compute")
def ratings_compute(
    period: Annotated[str, typer.Option(help="2026-H2 (half-year), 2026-Q4 (quarter) or 2026-11 (month)")],
    database_url: DbOption = None,
) -> None:
    """Rate every maintenance unit for the period and store it, replacing the period's earlier ratings;
    prints the units per star and the red and black lists (docs/RATINGS.md)."""
    from liftwatch.ratings.service import compute, public_period
    from liftwatch.ratings.settings import rating_settings_from_env

    with _user_errors():
        try:
            rs = rating_settings_from_env()
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]", highlight=False)
            raise typer.Exit(code=1) from None
        with _unit_of_work(database_url) as session:
            row = compute(session, SYSTEM_ACTOR, SystemClock(), get_settings(), period, rs)
            done = public_period(session, row.label)
            assert done is not None
            stars = {n: sum(1 for r in done.rows if r.stars == n) for n in range(5, 0, -1)}
            red = ", ".join(r.unit_code for r in done.red) or "-"
            black = ", ".join(r.unit_code for r in done.black) or "-"
            label, units = row.label, len(done.rows)
    per_star = "  ".join(f"{n}★ {k}" for n, k in stars.items())
    typer.echo(f"{label}: {units} units rated: {per_star}; red list: {red}; black list: {black}")


insurance_app = typer.Typer(help="Elevator liability insurance (电梯安全责任保险)", no_args_is_help=True)
app.add_typer(insurance_app, name="insurance")


@insurance_app.command("reprice")
def insurance_reprice(
    period: Annotated[str, typer.Option(help="2026-Q4 (quarter), 2026-H2 (half-year) or 2026-11 (month)")],
    database_url: DbOption = None,
) -> None:
    """Price every policy in force during the period from its elevator's stored risk grade and store the
    factors, replacing the period's earlier ones; prints the policies per grade (docs/INSURANCE.md)."""
    from liftwatch.insurance.service import reprice
    from liftwatch.insurance.settings import premium_settings_from_env

    with _user_errors():
        try:
            ps = premium_settings_from_env()
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]", highlight=False)
            raise typer.Exit(code=1) from None
        with _unit_of_work(database_url) as session:
            done = reprice(session, SYSTEM_ACTOR, SystemClock(), period, ps)
    grades = "  ".join(f"{g} {n}" for g, n in sorted(done.by_grade.items())) or "-"
    typer.echo(f"{done.period}: {done.policies} policies repriced: {grades} ('-': not graded yet)")


costs_app = typer.Typer(help="Cost disclosure (费用公开; docs/COSTS.md)", no_args_is_help=True)
app.add_typer(costs_app, name="costs")


@costs_app.command("book-contracts")
def costs_book_contracts(
    period: Annotated[str, typer.Option(help="the half-year, e.g. 2026-H2")],
    database_url: DbOption = None,
    unit: Annotated[str | None, typer.Option(help="only this use unit's ledger (its code)")] = None,
) -> None:
    """Book the half-year's share of every maintenance contract (prorated by days) on the ledgers of the
    elevators' use units; a contract already booked for the half-year is left as it is."""
    from liftwatch.costs.domain import HalfYear
    from liftwatch.costs.service import book_contracts

    try:
        half = HalfYear.parse(period)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(code=1) from None
    with _user_errors(), _unit_of_work(database_url) as session:
        done = book_contracts(session, SYSTEM_ACTOR, unit, half, SystemClock(), get_settings())
        created, existing = len(done.created), done.existing
    typer.echo(f"{half}: {created} contract fees booked, {existing} booked before")


report_app = typer.Typer(help="Supervision reports (监管月报、年报; docs/REPORTS.md)", no_args_is_help=True)
app.add_typer(report_app, name="report")
OutOption = Annotated[Path, typer.Option("--out", help="the folder the PDF and the workbook are written to")]
LangOption = Annotated[str, typer.Option("--lang", help="zh (default) or en")]


def _write_report(period_text: str, out: Path, lang: str, database_url: str | None) -> None:
    """The city's report of the period as PDF and Excel in ``out`` (the CLI acts as the system: the city)."""
    from liftwatch.analytics import excel, gather, pdf
    from liftwatch.analytics.report import ReportPeriod, build_report

    try:
        period = ReportPeriod.parse(period_text)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(code=1) from None
    with _user_errors(), _unit_of_work(database_url) as session:
        figures = gather.gather(session, gather.CITY, period, SystemClock(), get_settings())
    report = build_report(figures, "en" if lang == "en" else "zh")
    out.mkdir(parents=True, exist_ok=True)
    pdf_path, xlsx_path = out / f"report-{period.key}.pdf", out / f"report-{period.key}.xlsx"
    pdf_path.write_bytes(pdf.pdf(report))
    xlsx_path.write_bytes(excel.xlsx(report))
    typer.echo(f"{report.title}: {pdf_path}, {xlsx_path}")
    for line in report.findings:
        typer.echo(f"- {line}")


@report_app.command("rollup")
def report_rollup(
    month: Annotated[str | None, typer.Option(help="only this month, YYYY-MM")] = None,
    months: Annotated[int, typer.Option(help="the settled months among the last N")] = 12,
    database_url: DbOption = None,
) -> None:
    """Roll up the city's figures of the settled months again (after a correction, or ahead of the first
    readers; reading rolls up a month that has none): docs/ANALYTICS.md, "Roll-up"."""
    from liftwatch.analytics.service import rollup

    with _user_errors(), _unit_of_work(database_url) as session:
        done = rollup(session, SystemClock(), months=months, month=month, settings=get_settings())
    for m in done:
        typer.echo(f"{m.month}: {m.cells} cells, {m.seconds} s")
    if not done:
        typer.echo("no settled month to roll up")


@report_app.command("monthly")
def report_monthly(
    month: Annotated[str, typer.Option(help="the month, YYYY-MM")],
    out: OutOption = Path("."),
    lang: LangOption = "zh",
    database_url: DbOption = None,
) -> None:
    """The monthly supervision report of the city: a PDF and an Excel workbook with every table."""
    if len(month.strip()) != 7:
        console.print(f"[red]month: '{month}' is not YYYY-MM[/red]", highlight=False)
        raise typer.Exit(code=1)
    _write_report(month, out, lang, database_url)


@report_app.command("annual")
def report_annual(
    year: Annotated[str, typer.Option(help="the year, YYYY")],
    out: OutOption = Path("."),
    lang: LangOption = "zh",
    database_url: DbOption = None,
) -> None:
    """The annual supervision report of the city (the months as its trend): PDF and Excel."""
    if len(year.strip()) != 4:
        console.print(f"[red]year: '{year}' is not YYYY[/red]", highlight=False)
        raise typer.Exit(code=1)
    _write_report(year, out, lang, database_url)


if __name__ == "__main__":
    app()
