"""The telemetry simulator: reproducible, physically consistent, realistic traffic, faults at their rates,
ground truth that says exactly what the fault rules say, the truth file, the sinks and the CLI."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from liftwatch.cli import app as cli
from liftwatch.registry.domain import ElevatorKind, PlaceType
from liftwatch.sim.city import generate_city
from liftwatch.sim.rides import HOUR, LIFT_FAULTS, FleetElevator, local_hour
from liftwatch.sim.telemetry import (
    FaultRates,
    HttpSink,
    MqttSink,
    TelemetrySimulator,
    fleet_from_database,
    kind_of,
    synthetic_fleet,
    write_truth,
)
from liftwatch.telemetry.faults import DetectorSettings, FaultType
from liftwatch.telemetry.protocol import Event, Message, Status, decode_any, encode
from tests.unit.telemetry.sim_reference import conditions, hold_ms

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# 2026-11-23 07:00 China Standard Time: the morning peak
START = int(datetime(2026, 11, 22, 23, 0, tzinfo=UTC).timestamp() * 1000)
SETTINGS = DetectorSettings()


def _sim(n: int = 120, seed: int = 5, rates: FaultRates | None = None, **kw: object) -> TelemetrySimulator:
    fleet = synthetic_fleet(n, seed, escalator_share=0.2)
    return TelemetrySimulator(fleet, seed, START, rates or FaultRates.stress(), SETTINGS, **kw)  # type: ignore[arg-type]


def _by_terminal(stream: list[tuple[int, str, Message]]) -> dict[str, list[tuple[int, Message]]]:
    out: dict[str, list[tuple[int, Message]]] = defaultdict(list)
    for t, code, msg in stream:
        out[code].append((t, msg))
    return out


# ------------------------------------------------------------------------------------------ reproducible


def test_same_seed_same_messages_and_truth_other_seed_differs() -> None:
    a = _sim(seed=3).run(START + 20 * 60_000)
    b_sim = _sim(seed=3)
    b = b_sim.run(START + 20 * 60_000)
    assert [(t, c, encode(m)) for t, c, m in a] == [(t, c, encode(m)) for t, c, m in b]
    assert len(a) > 5_000
    c = _sim(seed=4).run(START + 20 * 60_000)
    assert [encode(m) for _, _, m in a[:500]] != [encode(m) for _, _, m in c[:500]]


def test_resuming_gives_the_same_stream_as_one_run() -> None:
    whole = _sim(seed=8).run(START + 15 * 60_000)
    sim = _sim(seed=8)
    parts = sim.run(START + 7 * 60_000 + 123) + sim.run(START + 15 * 60_000)
    assert [(t, c, m.msg_id) for t, c, m in whole] == [(t, c, m.msg_id) for t, c, m in parts]


def test_delivery_order_and_wire_format() -> None:
    stream = _sim(n=60).run(START + 10 * 60_000)
    times = [t for t, _, _ in stream]
    assert times == sorted(times)
    for _, code, msg in stream[:3000]:
        payload = encode(msg)
        gateway = b'{"registration_code":"' + code.encode() + b'",' + payload[1:]
        env = decode_any(gateway)  # the platform's strict decoder accepts every message
        assert env.registration_code == code and env.message == msg
        assert kind_of(msg) in ("status", "event", "heartbeat")


# -------------------------------------------------------------------------------------------- physics


def test_physics_and_counters_are_consistent() -> None:
    sim = _sim(n=150, seed=21, network_noise=False)
    end = START + 3 * HOUR
    stream = sim.run(end)
    specs = {e.registration_code: e for e in sim.fleet}
    windows: dict[tuple[str, FaultType], list[tuple[int, int]]] = defaultdict(list)
    for r in sim.truth:
        windows[(r.registration_code, r.fault_type)].append((r.start_ms, r.end_ms or end))
    running_open = 0
    for code, items in _by_terminal(stream).items():
        spec = specs[code]
        seqs = [m.seq for _, m in items]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), code  # clean stream: strictly increasing
        assert len({m.msg_id for _, m in items}) == len(items)
        statuses = [(t, m) for t, m in items if isinstance(m, Status)]
        if not spec.is_lift:
            for _, s in statuses:
                assert s.door_zone and s.door_closed and s.passenger is None
                assert s.speed is not None and s.speed <= spec.speed
            continue
        assert spec.floors is not None
        prev: tuple[int, Status] | None = None
        for t, s in statuses:
            assert s.floor is not None and 1 <= s.floor <= spec.floors
            if s.running and not s.door_closed:
                running_open += 1
                spans = windows[(code, FaultType.UNINTENDED_MOVEMENT)]
                assert any(a <= t <= b for a, b in spans), f"{code} runs with the door open at {t}"
            if not s.running:
                assert s.speed == 0.0
            if prev is not None:
                pt, ps = prev
                # at most the distance 1.6 x rated speed covers (the worst injected overspeed), +1 for
                # the car's position between two landings
                reach = (t - pt) / 1000 * spec.speed * 1.6 / 3.0 + 1
                assert abs(s.floor - (ps.floor or 0)) <= reach, (code, pt, t, ps.floor, s.floor)
                for counter in ("trips", "door_cycles", "run_hours"):
                    assert getattr(s, counter) >= getattr(ps, counter), (code, counter)
            prev = (t, s)
    assert running_open > 0  # the injected unintended movements were seen


def test_network_noise_only_reorders_neighbours_and_duplicates() -> None:
    stream = _sim(n=150, seed=22).run(START + HOUR)
    inversions = duplicates = 0
    for _, items in _by_terminal(stream).items():
        seen: dict[str, int] = {}
        newest = (-1, 0)  # (seq, delivered)
        for t, m in items:
            if m.msg_id in seen:
                duplicates += 1
                assert t - seen[m.msg_id] <= 2_500
                continue
            seen[m.msg_id] = t
            if m.seq < newest[0]:
                inversions += 1
                assert t - newest[1] <= 600, "only neighbouring messages are overtaken"
            else:
                newest = (m.seq, t)
    assert inversions > 10 and duplicates > 50


# -------------------------------------------------------------------------------------------- traffic


def test_traffic_peaks_follow_the_place_type() -> None:
    fleet = [
        FleetElevator(f"11SHR{i:06d}", "traction", 18, 1.75, PlaceType.RESIDENTIAL.value) for i in range(25)
    ]
    fleet += [FleetElevator(f"11SHO{i:06d}", "traction", 30, 2.5, PlaceType.OFFICE.value) for i in range(25)]
    fleet += [FleetElevator(f"31SHM{i:06d}", "escalator", None, 0.5, PlaceType.MALL.value) for i in range(15)]
    day = int(datetime(2026, 11, 22, 16, 0, tzinfo=UTC).timestamp() * 1000)  # local midnight
    sim = TelemetrySimulator(fleet, 9, day, FaultRates.quiet(), SETTINGS)
    runs: dict[str, Counter[int]] = defaultdict(Counter)
    last_running: dict[str, bool] = {}
    mall_modes: Counter[tuple[int, int]] = Counter()
    for t, code, msg in sim.messages(day + 24 * HOUR):
        if not isinstance(msg, Status):
            continue
        place = code[4]
        if place == "M":
            mall_modes[(local_hour(t), int(msg.running))] += 1
            if msg.speed and msg.speed > 0.4:
                runs["M"][local_hour(t)] += 1
            continue
        if msg.running and not last_running.get(code, False):
            runs[place][local_hour(t)] += 1
        last_running[code] = msg.running
    home, office, mall = runs["R"], runs["O"], runs["M"]
    assert home[7] + home[8] > 4 * (home[2] + home[3] + 1)
    assert home[18] + home[19] > 1.8 * (home[10] + home[11])
    assert office[8] > 1.6 * office[15] and office[12] > 1.5 * office[10]  # lifts saturate at peaks
    assert office[2] + office[3] < 0.05 * office[8]
    assert mall[15] + mall[19] > 2 * (mall[10] + 1)  # afternoon and evening crowds
    assert mall_modes[(3, 1)] == 0 and mall_modes[(15, 1)] > 0  # closed at night, running in the day


def test_the_city_clock_follows_the_time_zone_setting() -> None:
    """Rush hours and a mall's opening hours are on the city's clock (Settings.timezone), not a fixed UTC+8:
    in a city at UTC+5:45 the mall that opens at 10 local runs at 04:15 UTC, not at 02:00 UTC."""
    fleet = [FleetElevator(f"31SHM{i:06d}", "escalator", None, 0.5, PlaceType.MALL.value) for i in range(10)]
    day = int(datetime(2026, 11, 22, 0, 0, tzinfo=UTC).timestamp() * 1000)  # UTC midnight
    running_utc_hours: dict[str, set[int]] = {}
    for name, tz in (("shanghai", ZoneInfo("Asia/Shanghai")), ("kathmandu", ZoneInfo("Asia/Kathmandu"))):
        sim = TelemetrySimulator(fleet, 9, day, FaultRates.quiet(), SETTINGS, tz=tz)
        hours = {
            (t - day) // HOUR
            for t, _, msg in sim.messages(day + 24 * HOUR)
            if isinstance(msg, Status) and msg.running
        }
        running_utc_hours[name] = hours
    # the mall is closed at night local time: 18-22 UTC is 02-06 in Shanghai, 23:45-03:45 in Kathmandu
    assert not running_utc_hours["shanghai"] & {19, 20, 21}
    assert not running_utc_hours["kathmandu"] & {19, 20, 21}
    # 03 UTC is 11:00 in Shanghai (open) and 08:45 in Kathmandu (still closed)
    assert 3 in running_utc_hours["shanghai"] and 3 not in running_utc_hours["kathmandu"]


# ----------------------------------------------------------------------------------------------- faults


def test_every_fault_type_is_injected_at_its_configured_rate() -> None:
    per_hour = 0.03
    rates = FaultRates.stress(per_hour=per_hour, noise_per_hour=0.1)
    fleet = synthetic_fleet(300, 31, escalator_share=0.3)
    start = START + 4 * HOUR  # 11:00 local: the malls are open
    hours = 6
    sim = TelemetrySimulator(fleet, 31, start, rates, SETTINGS)
    for _ in sim.messages(start + hours * HOUR):
        pass
    primary = Counter(r.fault_type for r in sim.truth if r.cause is r.fault_type)
    total = expected_total = 0.0
    for ft in FaultType:
        expected = per_hour * hours * sum(1 for d in sim.devices if ft in d.fault_types)
        # every type is there, at its rate within Poisson noise (about 36 expected per type)
        assert 0.4 * expected <= primary[ft] <= 1.8 * expected, (ft.value, primary[ft], expected)
        total += primary[ft]
        expected_total += expected
    # together: the rate holds, less the time elevators spend inside episodes (no new fault starts then)
    assert 0.7 * expected_total <= total <= 1.05 * expected_total, (total, expected_total)
    # cascades: stuck cars trap passengers, power cuts stop cars between floors
    causes = {(r.fault_type, r.cause) for r in sim.truth}
    assert (FaultType.ENTRAPMENT, FaultType.POWER_CUT) in causes
    assert (FaultType.STOPPED_OUTSIDE_DOOR_ZONE, FaultType.OVERRUN_TOP) in causes
    assert (FaultType.ALARM_BUTTON, FaultType.ENTRAPMENT) in causes


def test_truth_is_exactly_what_the_rules_say_on_the_clean_stream() -> None:
    """Every interval in which a rule's condition held past its threshold is a truth record (and the
    reverse), with the same start and end; chatter stays clear of every threshold."""
    sim = _sim(n=300, seed=41, network_noise=False)
    end = START + 3 * HOUR
    stream = sim.run(end)
    settings = SETTINGS
    rules: list[tuple[str, FaultType, int, int | None]] = []
    near: list[tuple[str, FaultType, int]] = []
    for iv in conditions(stream, sim.rated_speeds, settings, end):
        hold = hold_ms(iv.fault_type, settings, iv.in_zone)
        length = (iv.end_ms if iv.end_ms is not None else end) - iv.start_ms
        if hold and abs(length - hold) < max(1_000, hold // 10):
            near.append((iv.code, iv.fault_type, iv.start_ms))
        if length >= hold and iv.start_ms < end - 300_000:
            rules.append((iv.code, iv.fault_type, iv.start_ms, iv.end_ms))
    assert not near, f"conditions too close to their thresholds: {near[:5]}"
    truth = [
        (r.registration_code, r.fault_type, r.start_ms, r.end_ms)
        for r in sim.truth
        if r.start_ms < end - 300_000
    ]
    assert len(truth) > 1_000
    assert Counter(t[1] for t in truth) == Counter(r[1] for r in rules)
    assert sorted(truth, key=lambda x: (x[0], x[1].value, x[2])) == sorted(
        rules, key=lambda x: (x[0], x[1].value, x[2])
    )
    chatter = [
        (iv.fault_type, iv.end_ms - iv.start_ms)
        for iv in conditions(stream, sim.rated_speeds, settings, end)
        if iv.end_ms is not None
    ]
    short_power = [d for ft, d in chatter if ft is FaultType.POWER_CUT and d < settings.confirm_ms]
    short_zone = [
        d for ft, d in chatter if ft is FaultType.STOPPED_OUTSIDE_DOOR_ZONE and d < settings.confirm_ms
    ]
    assert short_power and short_zone  # the noise that must not raise faults is there


def test_lift_faults_do_not_apply_to_escalators() -> None:
    sim = _sim(n=200, seed=51)
    sim.run(START + 2 * HOUR)
    kinds = {e.registration_code: e.is_lift for e in sim.fleet}
    for r in sim.truth:
        if r.fault_type in LIFT_FAULTS:
            assert kinds[r.registration_code]
        if r.fault_type.value.startswith("esc_"):
            assert not kinds[r.registration_code]


def test_truth_file_is_json_lines(tmp_path: Path) -> None:
    sim = _sim(n=80)
    sim.run(START + HOUR)
    path = tmp_path / "truth.jsonl"
    n = write_truth(path, sim.truth)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert n == len(lines) == len(sim.truth) > 10
    rows = [json.loads(line) for line in lines]
    assert {"registration_code", "fault_type", "start_ms", "end_ms", "cause", "detail"} <= set(rows[0])
    assert [r["start_ms"] for r in rows] == sorted(r["start_ms"] for r in rows)
    assert {r["fault_type"] for r in rows} <= {ft.value for ft in FaultType}
    assert all(r["end_ms"] is None or r["end_ms"] >= r["start_ms"] for r in rows)


# ----------------------------------------------------------------------------------------------- fleets


def test_synthetic_fleet_is_plausible() -> None:
    fleet = synthetic_fleet(500, 1)
    assert len({e.registration_code for e in fleet}) == 500
    kinds = Counter(e.kind for e in fleet)
    assert kinds[ElevatorKind.TRACTION.value] > 400 and kinds[ElevatorKind.ESCALATOR.value] > 5
    for e in fleet:
        if e.is_lift:
            assert e.floors is not None and e.floors >= 2 and e.rated_speed
        else:
            assert e.place_type in (PlaceType.MALL.value, PlaceType.METRO.value)
    assert synthetic_fleet(500, 1) == fleet


def test_fleet_from_the_registry(engine: Engine) -> None:
    generate_city(engine, elevators=80, seed=3, progress=False)
    url = engine.url.render_as_string(hide_password=False)
    fleet = fleet_from_database(url, 30)
    assert 0 < len(fleet) <= 30
    codes = [e.registration_code for e in fleet]
    assert codes == sorted(codes)
    assert all(e.place_type in {p.value for p in PlaceType} for e in fleet)
    assert any(e.floors for e in fleet)


# ------------------------------------------------------------------------------------------------ sinks


def _broker() -> tuple[str, int] | None:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=2):
            return "127.0.0.1", 1883
    except OSError:
        return None


def test_mqtt_sink_delivers_intact_through_mosquitto() -> None:
    if _broker() is None:
        if IN_CI:
            pytest.fail("Mosquitto must be reachable in CI at 127.0.0.1:1883")
        pytest.skip("Mosquitto not reachable at 127.0.0.1:1883")
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    sim = _sim(n=30, seed=61)
    sent = sim.run(START + 10 * 60_000)[:400]
    prefix = sent[0][1]  # subscribe to these terminals only (a shared broker may carry other traffic)
    codes = sorted({c for _, c, _ in sent})
    got: list[tuple[str, bytes, int]] = []
    ready = threading.Event()
    lock = threading.Lock()

    def on_connect(client: mqtt.Client, userdata: object, flags: object, rc: object, props: object) -> None:
        client.subscribe([(f"liftwatch/v1/{c}/#", 1) for c in codes])

    def on_subscribe(client: mqtt.Client, userdata: object, mid: int, rcs: object, props: object) -> None:
        ready.set()

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with lock:
            got.append((message.topic, bytes(message.payload), message.qos))

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"lw-test-{os.getpid()}-{prefix}")
    sub.on_connect, sub.on_subscribe, sub.on_message = on_connect, on_subscribe, on_message
    sub.connect("127.0.0.1", 1883)
    sub.loop_start()
    try:
        assert ready.wait(10), "subscription not acknowledged"
        sink = MqttSink("mqtt://127.0.0.1:1883")
        for _, code, msg in sent:
            sink.send(code, kind_of(msg), encode(msg))
        sink.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(got) < len(sent):
            time.sleep(0.05)
    finally:
        sub.loop_stop()
        sub.disconnect()
    expected = Counter((f"liftwatch/v1/{c}/{kind_of(m)}", encode(m)) for _, c, m in sent)
    assert Counter((topic, payload) for topic, payload, _ in got) == expected
    events = [q for topic, _, q in got if topic.endswith("/event")]
    assert all(q == 1 for q in events)


def test_http_sink_posts_batches_with_the_token() -> None:
    posts: list[tuple[str, str, list[dict[str, object]]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            posts.append((self.path, self.headers.get("Authorization", ""), json.loads(body)))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sent = _sim(n=40).run(START + 10 * 60_000)[:1_234]
        sink = HttpSink(f"http://127.0.0.1:{server.server_port}/api/v1/telemetry", "tok-123")
        for _, code, msg in sent:
            sink.send(code, kind_of(msg), encode(msg))
        sink.close()
    finally:
        server.shutdown()
        server.server_close()
    assert [len(items) for _, _, items in posts] == [500, 500, 234]
    assert {p for p, _, _ in posts} == {"/api/v1/telemetry"}
    assert {a for _, a, _ in posts} == {"Bearer tok-123"}
    items = [item for _, _, batch in posts for item in batch]
    for item, (_, code, msg) in zip(items, sent, strict=True):
        raw = msgspec.json.encode(item)
        env = decode_any(raw)
        assert env.registration_code == code and env.message == msg
        assert item["type"] == kind_of(msg)


# -------------------------------------------------------------------------------------------------- CLI


def test_cli_simulate_writes_truth(tmp_path: Path) -> None:
    truth = tmp_path / "truth.jsonl"
    result = CliRunner().invoke(
        cli,
        [
            "simulate",
            "--elevators",
            "40",
            "--rate",
            "3000",
            "--duration",
            "1.5",
            "--fault-scale",
            "500000",  # the run covers ~1.5 s of city time now (wall-clock true): faults at once
            "--truth",
            str(truth),
            "--database-url",
            f"sqlite:///{tmp_path / 'empty.db'}",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "synthetic" in result.output and "sent" in result.output
    rows = [json.loads(line) for line in truth.read_text().splitlines()]
    assert rows and {r["registration_code"][:5] for r in rows} <= {
        "11SHZ",
        "31SHZ",
        "32SHZ",
        "21SHZ",
        "43SHZ",
    }


def test_cli_rejects_two_sinks(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["simulate", "--mqtt", "mqtt://x", "--nats", "nats://y", "--duration", "0"]
    )
    assert result.exit_code == 1
    assert "one of" in result.output


def test_events_pair_raise_and_clear() -> None:
    stream = _sim(n=100, seed=71, network_noise=False).run(START + 2 * HOUR)
    active: dict[tuple[str, str], bool] = {}
    for _, code, msg in stream:
        if isinstance(msg, Event) and msg.code.value != "alarm":
            key = (code, msg.code.value)
            assert active.get(key, False) != msg.active, "a controller raises, then clears"
            active[key] = msg.active
