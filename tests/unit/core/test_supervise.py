"""`liftwatch supervise`: the Procfile parser, the restart policy, the output lines, the files generated from
the Procfile (the committed deploy/compose.yaml must be what the Procfile gives), and the supervisor itself
on small real processes (restart with backoff, crash loop, SIGTERM then SIGKILL)."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path

import pytest
import yaml

from liftwatch.core.supervise import (
    ProcessSpec,
    ProcfileError,
    RestartPolicy,
    Supervisor,
    compose_file,
    describe_exit,
    format_line,
    load_procfile,
    parse_procfile,
    render_procfile,
    resolve_argv,
    systemd_units,
)

ROOT = Path(__file__).parents[3]
PROCFILE = ROOT / "deploy" / "Procfile"


# ------------------------------------------------------------------------------------------ the parser


def test_a_procfile_gives_each_line_its_name_environment_and_words() -> None:
    specs = parse_procfile(
        "# comment\n\n"
        "web: LIFTWATCH_PIPELINE=false A='b c' liftwatch serve --port 8000  # trailing comment\n"
        "detect-a:liftwatch worker --role detect --partitions '0,1'\n"
    )
    assert specs == [
        ProcessSpec(
            "web", ("liftwatch", "serve", "--port", "8000"), {"LIFTWATCH_PIPELINE": "false", "A": "b c"}
        ),
        ProcessSpec("detect-a", ("liftwatch", "worker", "--role", "detect", "--partitions", "0,1")),
    ]
    assert parse_procfile(render_procfile(specs)) == specs  # rendered back, read back the same


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("web liftwatch serve\n", "Procfile:1: expected 'name: command'"),
        ("we b: liftwatch serve\n", "Procfile:1: 'we b' is not a process name"),
        ("a: x\n# c\na: y\n", "Procfile:3: process 'a' is named twice"),
        ("a: X=1\n", "Procfile:1: process 'a' has no command"),
        ("a: echo 'unclosed\n", "Procfile:1: No closing quotation"),
        ("# nothing\n\n", "Procfile: no processes"),
    ],
)
def test_a_bad_procfile_is_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(ProcfileError) as exc:
        parse_procfile(text)
    assert str(exc.value).startswith(message)


def test_options_and_probe_ports() -> None:
    web = ProcessSpec("web", ("liftwatch", "serve", "--host", "0.0.0.0"))
    assert web.probe_port == 8000  # serve's default
    assert web.with_option("--port", "8100").probe_port == 8100
    worker = ProcessSpec("w", ("liftwatch", "worker", "--metrics-port=9101"))
    assert worker.option("--metrics-port") == "9101"
    assert worker.with_option("--metrics-port", "9200").argv == ("liftwatch", "worker", "--metrics-port=9200")
    assert ProcessSpec("x", ("sleep", "1")).probe_port is None


def test_the_deployment_procfile_runs_every_role_once_on_distinct_ports() -> None:
    specs = load_procfile(PROCFILE)
    roles = [s.option("--role") for s in specs if "worker" in s.argv]
    assert sorted(r for r in roles if r) == ["archive", "detect", "detect", "ingest", "maintenance", "rescue"]
    partitions = [
        p
        for s in specs
        if s.option("--role") == "detect"
        for p in (s.option("--partitions") or "").split(",")
    ]
    assert sorted(partitions) == ["0", "1", "2", "3"]  # each of the default 4 partitions exactly once
    ports = [s.probe_port for s in specs]
    assert None not in ports and len(set(ports)) == len(ports)
    web = next(s for s in specs if "serve" in s.argv)
    assert web.env == {"LIFTWATCH_PIPELINE": "false"}


def test_liftwatch_in_a_command_is_the_supervisors_own(tmp_path: Path) -> None:
    (tmp_path / "liftwatch").write_text("")
    assert resolve_argv(["liftwatch", "worker"], tmp_path) == [str(tmp_path / "liftwatch"), "worker"]
    assert resolve_argv(["sleep", "1"], tmp_path) == ["sleep", "1"]
    assert resolve_argv(["liftwatch", "worker"], tmp_path / "nowhere") == ["liftwatch", "worker"]  # PATH's


# ----------------------------------------------------------------------------------- the restart policy


def test_a_failure_is_restarted_with_a_doubling_backoff_and_a_crash_loop_is_given_up() -> None:
    policy = RestartPolicy(backoff_s=1, backoff_max_s=5, fast_s=10, max_fast_failures=5)
    fast, delays = 0, []
    for _ in range(4):
        d = policy.decide(fast, 1, ran_for_s=0.5)
        assert d.action == "restart"
        fast = d.fast_failures
        delays.append(d.delay_s)
    assert delays == [1, 2, 4, 5]  # doubling, capped
    assert policy.decide(fast, 1, ran_for_s=0.5).action == "give_up"  # the fifth fast failure in a row


def test_a_long_run_resets_the_backoff_and_status_0_is_not_restarted() -> None:
    policy = RestartPolicy(backoff_s=1, fast_s=10, max_fast_failures=3)
    d = policy.decide(2, 1, ran_for_s=60)  # it ran for a minute: not a crash loop
    assert (d.action, d.delay_s, d.fast_failures) == ("restart", 1, 0)
    assert policy.decide(2, -9, ran_for_s=0.1).action == "give_up"  # killed by a signal counts as a failure
    assert policy.decide(2, 0, ran_for_s=0.1).action == "done"


def test_exit_descriptions() -> None:
    assert describe_exit(1) == "status 1"
    assert describe_exit(-9) == "signal SIGKILL"


# -------------------------------------------------------------------------------------- output lines


def test_text_lines_get_the_name_and_json_lines_stay_json_with_it() -> None:
    assert format_line("web", "INFO started\n", 8) == "web      | INFO started"
    line = format_line("ingest", '{"ts": "x", "level": "info", "msg": "m"}\n', 8)
    assert json.loads(line) == {"process": "ingest", "ts": "x", "level": "info", "msg": "m"}
    assert line.startswith('{"process": "ingest", "ts"')  # the object's own order kept
    assert format_line("a", "{not json}", 1) == "a | {not json}"
    assert json.loads(format_line("a", "{}", 1)) == {"process": "a"}


# -------------------------------------------------------------------------------- generated from it


def test_the_committed_compose_file_is_generated_from_the_procfile() -> None:
    """After changing deploy/Procfile: `liftwatch supervise --compose > deploy/compose.yaml`."""
    specs = load_procfile(PROCFILE)
    committed = (ROOT / "deploy" / "compose.yaml").read_text()
    assert committed == compose_file(specs), "run: liftwatch supervise --compose > deploy/compose.yaml"
    services = yaml.safe_load(committed)["services"]
    assert {"postgres", "nats", "mosquitto", "migrate"} <= set(services)
    for spec in specs:  # the same command and environment as the supervised run
        service = services[spec.name]
        assert service["command"] == list(spec.argv)
        assert service.get("environment", {}) == dict(spec.env)
        assert service["image"] == "liftwatch:latest"  # the anchor merged in
        assert str(spec.probe_port) in service["healthcheck"]["test"][-1]


def test_systemd_units_run_the_same_commands() -> None:
    specs = load_procfile(PROCFILE)
    units = systemd_units(specs)
    for spec in specs:
        assert f"# /etc/systemd/system/liftwatch-{spec.name}.service" in units
        assert "ExecStart=/opt/liftwatch/bin/liftwatch " + " ".join(spec.argv[1:]) in units
    assert units.count("Restart=always") == len(specs)
    assert "Environment=LIFTWATCH_PIPELINE=false" in units


# ------------------------------------------------------------------------------ the supervisor, for real

PY = sys.executable


def _py(name: str, code: str) -> ProcessSpec:
    return ProcessSpec(name, (PY, "-c", code))


def _run(sup: Supervisor, stop_when: str | None = None, out: io.StringIO | None = None) -> int:
    async def main() -> int:
        async def stopper() -> None:
            while stop_when is not None and out is not None and stop_when not in out.getvalue():
                await asyncio.sleep(0.02)
            if stop_when is not None:
                sup.stop.set()

        task = asyncio.create_task(stopper())
        code = await asyncio.wait_for(sup.run(), 20)
        task.cancel()
        return code

    return asyncio.run(main())


def test_a_failing_process_is_restarted_then_given_up_as_a_crash_loop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    out = io.StringIO()
    policy = RestartPolicy(backoff_s=0.05, fast_s=10, max_fast_failures=3)
    sleeper = _py("ok", "import time; print('up', flush=True); time.sleep(60)")
    sup = Supervisor(
        [_py("bad", "import sys; print('boom'); sys.exit(3)"), sleeper], policy, grace_s=5, out=out
    )
    with caplog.at_level("INFO", logger="liftwatch.core.supervise"):
        assert _run(sup) == 1
    assert out.getvalue().count("bad | boom") == 3
    messages = [r.getMessage() for r in caplog.records]
    assert sum("bad exited with status 3" in m and "restarting in" in m for m in messages) == 2
    assert any("bad keeps failing: 3 exits in a row" in m for m in messages)
    # ended by the SIGTERM it was sent (Python's default action), which counts as a clean stop
    assert "ok stopped by the SIGTERM it was sent, a clean stop" in messages


def test_sigterm_reaches_every_process_and_a_stubborn_one_is_killed_after_the_grace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    out = io.StringIO()
    polite = _py(
        "polite",
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: (print('draining', flush=True), sys.exit(0)))\n"
        "print('ready', flush=True)\ntime.sleep(60)",
    )
    stubborn = _py(
        "stubborn",
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\n"
        "time.sleep(60)",
    )
    sup = Supervisor([polite, stubborn], grace_s=0.5, out=out)

    async def main() -> int:
        async def stopper() -> None:
            while out.getvalue().count("| ready") < 2:
                await asyncio.sleep(0.02)
            sup.stop.set()

        task = asyncio.create_task(stopper())
        code = await asyncio.wait_for(sup.run(), 20)
        await task
        return code

    with caplog.at_level("INFO", logger="liftwatch.core.supervise"):
        assert asyncio.run(main()) == 1  # one did not stop cleanly
    assert "polite   | draining" in out.getvalue()
    messages = [r.getMessage() for r in caplog.records]
    assert "polite stopped with status 0" in messages
    assert "stubborn did not stop within 0.5 s: SIGKILL" in messages
    assert "stubborn stopped with signal SIGKILL" in messages


def test_a_command_that_cannot_start_is_a_crash_loop(caplog: pytest.LogCaptureFixture) -> None:
    sup = Supervisor(
        [ProcessSpec("ghost", ("/nonexistent/liftwatch-nothing",))],
        RestartPolicy(backoff_s=0.01, max_fast_failures=2),
        out=io.StringIO(),
    )
    with caplog.at_level("INFO", logger="liftwatch.core.supervise"):
        assert _run(sup) == 1
    messages = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith("ghost cannot start: ") for m in messages) == 2
    assert any(m.startswith("ghost keeps failing: 2 exits in a row") for m in messages)


def test_a_process_done_with_status_0_is_not_restarted(caplog: pytest.LogCaptureFixture) -> None:
    out = io.StringIO()
    sup = Supervisor([_py("once", "print('did it')")], out=out)
    with caplog.at_level("INFO", logger="liftwatch.core.supervise"):
        assert _run(sup) == 0  # nothing left to supervise: the supervisor ends too
    assert out.getvalue() == "once | did it\n"
    assert any(r.getMessage().startswith("once exited with status 0 after") for r in caplog.records)
