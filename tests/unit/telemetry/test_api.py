"""The telemetry API with the embedded pipeline running: the gateway batch endpoint, live status, faults,
statistics and metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import create_user
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.telemetry import service
from tests.factories import PASSWORD, auth, seed, token
from tests.waiting import wait_until

TS = 1_795_424_400_000  # 2026-11-23 09:00 UTC, the test clock


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path / "var", secret_key="s" * 48, pipeline=True, archive=False, checkpoint_seconds=0.1
    )


def _item(seq: int, **fields: Any) -> dict[str, Any]:
    base = {"type": "status", "registration_code": "11SHA000001", "msg_id": f"g-{seq}", "seq": seq, "ts": TS}
    base.update(mode=1, running=False, door_zone=True, door_closed=True)
    base.update(fields)
    return base


def test_gateway_batch_is_accepted_rejected_and_detected(
    app: Any, session: Session, clock: FixedClock
) -> None:
    seed(session, clock)  # before the app starts: the pipeline loads the registry's codes at start
    with TestClient(app) as client:
        _gateway_batch(client, session)


def _gateway_batch(client: TestClient, session: Session) -> None:
    h = auth(client, Role.GATEWAY)
    batch = [
        _item(1, running=True),
        _item(2, running=True, door_closed=False),  # moving with the door open
        {"type": "status", "registration_code": "11SHA000001", "msg_id": "g-3"},  # fields missing
        _item(4, registration_code="NOPE999"),
        _item(5, mode=42),
        {
            "type": "event",
            "registration_code": "11SHB000004",
            "msg_id": "e-1",
            "seq": 1,
            "ts": TS,
            "code": "09",
        },
    ]
    r = client.post("/api/v1/telemetry", headers=h, json=batch)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 3
    assert [(x["index"], x["reason"]) for x in body["rejected"]] == [
        (2, "invalid"),
        (3, "unknown_elevator"),
        (4, "invalid"),
    ]
    assert "mode" in body["rejected"][2]["detail"]

    # the overrun event is detected and stored by the embedded pipeline
    reg = auth(client, Role.REGULATOR)
    faults = wait_until(lambda: client.get("/api/v1/elevators/11SHB000004/faults", headers=reg).json())
    assert [(f["fault_type"], f["severity"]) for f in faults] == [("overrun_top", "critical")]
    live = wait_until(
        lambda: (client.get("/api/v1/elevators/11SHB000004/live", headers=reg).json() or {}).get("status")
    )
    assert live["online"] is True
    open_faults = client.get("/api/v1/faults", headers=reg).json()
    assert [f["registration_code"] for f in open_faults] == ["11SHB000004"]
    # a maintenance user of another unit does not see it
    assert client.get("/api/v1/faults", headers=auth(client, Role.MAINTENANCE)).json() == []

    session.expire_all()
    assert service.dead_letter_counts(session) == {"invalid": 2, "unknown_elevator": 1}
    stats = client.get("/api/v1/telemetry/stats", headers=reg).json()
    assert stats["dead_letters"] == {"invalid": 2, "unknown_elevator": 1}
    assert stats["ingest"]["accepted"] == 3
    assert stats["detector"]["checkpoints"] >= 1 and stats["detector"]["stream_pending"] == 0
    metrics = client.get("/metrics", headers=auth(client, Role.ADMIN)).text
    assert 'liftwatch_telemetry_rejects_total{reason="unknown_elevator",source="http"} 1.0' in metrics


def test_a_units_gateway_reports_only_for_that_units_elevators(
    app: Any, session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    create_user(
        session,
        SYSTEM_ACTOR,
        UserCreate(username="gw-mu-a", password=PASSWORD, role=Role.GATEWAY, unit="MU-A"),
        clock,
    )
    session.commit()
    theirs, other = "11SHA000002", "11SHB000004"  # maintained by MU-A / by MU-B
    batch = [_item(1, registration_code=theirs), _item(2, registration_code=other)]
    with TestClient(app) as client:
        unit_gateway = {"Authorization": f"Bearer {token(client, 'gw-mu-a')}"}
        r = client.post("/api/v1/telemetry", headers=unit_gateway, json=batch)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["accepted"] == 1
        assert [(x["index"], x["reason"]) for x in body["rejected"]] == [(1, "not_this_gateway")]
        assert other in body["rejected"][0]["detail"]
        # the city's gateway (no unit) may report for both
        r = client.post(
            "/api/v1/telemetry", headers=auth(client, Role.GATEWAY), json=[_item(3, registration_code=other)]
        )
        assert r.json() == {"accepted": 1, "rejected": []}
    session.expire_all()
    assert service.dead_letter_counts(session) == {"not_this_gateway": 1}  # kept, with its reason


def test_body_must_be_an_array_of_bounded_size(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    h = auth(client, Role.GATEWAY)
    r = client.post("/api/v1/telemetry", headers=h, content=b'{"not": "an array"}')
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body"
    r = client.post("/api/v1/telemetry", headers=h, json=[_item(i) for i in range(5001)])
    assert r.status_code == 422
    assert "at most 5000" in r.json()["detail"]
    session.expire_all()
    assert service.dead_letter_counts(session) == {"bad_json": 1}


def test_without_a_pipeline_the_endpoint_says_so(
    tmp_path: Path, session: Session, clock: FixedClock, engine: Any
) -> None:
    from liftwatch.app import create_app

    seed(session, clock)
    app = create_app(Settings(var_dir=tmp_path / "v2", secret_key="s" * 48, pipeline=False), engine, clock)
    with TestClient(app) as c:
        r = c.post("/api/v1/telemetry", headers=auth(c, Role.GATEWAY), json=[_item(1)])
    assert r.status_code == 503
    assert "not running" in r.json()["detail"]


def test_a_nul_in_a_registration_code_loses_no_dead_letter(
    app: Any, session: Session, clock: FixedClock
) -> None:
    """Issue 9: PostgreSQL refuses NUL in text; the batch's dead letters used to be lost with it."""
    seed(session, clock)
    with TestClient(app) as client:
        batch = [
            _item(1, registration_code="11SHA\x00001"),
            _item(2, registration_code="NOPE999"),
            {"type": "status", "registration_code": "11SHA000001\x00", "msg_id": "g-3"},
            _item(4),
        ]
        r = client.post("/api/v1/telemetry", headers=auth(client, Role.GATEWAY), json=batch)
        assert r.status_code == 200, r.text
        assert [x["index"] for x in r.json()["rejected"]] == [0, 1, 2]
        session.expire_all()
        assert sum(service.dead_letter_counts(session).values()) == 3
        payloads = {bytes(p) for (p,) in session.execute(text("SELECT payload FROM dead_letters"))}
        assert any(b"11SHA\\u0000001" in p or b"11SHA\x00001" in p for p in payloads)  # kept as sent
