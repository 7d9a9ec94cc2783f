"""Routes: the gateway batch endpoint, live status and faults, statistics, Prometheus metrics."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from liftwatch.accounts.actor import Role
from liftwatch.core.errors import DomainError, FieldError, Forbidden, InvalidInput
from liftwatch.core.metrics import process_registry
from liftwatch.core.types import PathCode, QueryStr, error_responses
from liftwatch.deps import (
    ActorDep,
    ClockDep,
    GatewayActorDep,
    SessionDep,
    SettingsDep,
    current_actor,
    optional_actor,
)
from liftwatch.registry import queries as registry
from liftwatch.telemetry import records, service
from liftwatch.telemetry.ingest import Ingestor
from liftwatch.telemetry.protocol import Rejected
from liftwatch.telemetry.schemas import ElevatorLive, FaultOut, IngestResult, LiveStatusOut, RejectedItem

router = APIRouter(prefix="/api/v1", tags=["telemetry"])

MAX_BATCH = 5000
MAX_BODY = 8 * 1024 * 1024
SENDERS = frozenset({Role.GATEWAY, Role.ADMIN})
_array = msgspec.json.Decoder(list[msgspec.Raw])


class ServiceUnavailable(DomainError):
    status_code = 503


def _ingestor(request: Request) -> Ingestor:
    pipeline = getattr(request.app.state, "pipeline", None)
    ingestor = getattr(pipeline, "ingestor", None)
    if ingestor is None:
        raise ServiceUnavailable("telemetry ingestion is not running in this process")
    return ingestor  # type: ignore[no-any-return]


def _codes_of_unit(request: Request, unit_id: int) -> set[str]:
    with request.app.state.session_factory() as session:
        return registry.codes_of_unit(session, unit_id)


# The body is read raw (each item is validated on its own and a bad one is dead-lettered, not the batch);
# this documents its shape for gateway vendors and for generated tests. docs/PROTOCOL.md has the fields.
_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "maxItems": MAX_BATCH,
                    "items": {
                        "type": "object",
                        "required": ["type", "registration_code", "msg_id", "seq", "ts"],
                        "properties": {
                            "type": {"type": "string", "enum": ["status", "event", "heartbeat"]},
                            "registration_code": {"type": "string", "minLength": 3, "maxLength": 40},
                            "msg_id": {"type": "string", "minLength": 1, "maxLength": 64},
                            "seq": {"type": "integer", "minimum": 0},
                            "ts": {"type": "integer", "description": "ms since 1970-01-01 UTC"},
                            "sent_ts": {"type": "integer"},
                            "backlog": {"type": "boolean"},
                        },
                        "additionalProperties": True,
                    },
                }
            }
        },
    }
}


@router.post(
    "/telemetry", response_model=IngestResult, responses=error_responses(503), openapi_extra=_BATCH_BODY
)
async def ingest_batch(request: Request, actor: GatewayActorDep, clock: ClockDep) -> IngestResult:
    """Gateways post a JSON array of terminal messages, each with ``type`` and ``registration_code``.
    The answer comes after the accepted ones are stored on the stream; the rejected are dead-lettered.
    A gateway authenticates with its API key or a token (:func:`liftwatch.deps.gateway_actor`)."""
    if actor.role not in SENDERS:
        raise Forbidden(f"role '{actor.role.value}' may not send telemetry")
    ingestor = _ingestor(request)
    if ingestor.saturated:  # backpressure: the gateway keeps its messages and retries
        raise ServiceUnavailable("telemetry ingestion is saturated; retry the whole batch later")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InvalidInput(FieldError("body", f"{len(body)} bytes; at most {MAX_BODY} per request"))
    received_ms = int(clock.now().timestamp() * 1000)
    try:
        items = _array.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        ingestor.reject(
            "http", "", Rejected("bad_json", f"body is not a JSON array: {exc}"), body, received_ms
        )
        with contextlib.suppress(Exception):  # a failed store is kept and retried by the ingest loop
            await ingestor.flush()
        raise InvalidInput(FieldError("body", f"expected a JSON array of messages: {exc}")) from None
    if len(items) > MAX_BATCH:
        raise InvalidInput(FieldError("body", f"{len(items)} messages; at most {MAX_BATCH} per request"))
    allowed = None  # a gateway of a unit reports for that unit's elevators only
    if actor.role is Role.GATEWAY and actor.unit_id is not None:
        allowed = await asyncio.to_thread(_codes_of_unit, request, actor.unit_id)
    rejected: list[RejectedItem] = []
    for i, raw in enumerate(items):
        rej = ingestor.accept_gateway_item(bytes(raw), received_ms, allowed=allowed)
        if rej is not None:
            rejected.append(RejectedItem(index=i, reason=rej.reason, detail=rej.detail))
    try:
        await ingestor.flush()
    except Exception as exc:  # held by the ingestor and published by its loop; a retry is a duplicate
        raise ServiceUnavailable(
            f"the stream did not confirm the batch ({type(exc).__name__}); retrying it is safe"
        ) from None
    return IngestResult(accepted=len(items) - len(rejected), rejected=rejected)


@router.get("/telemetry/stats")
async def telemetry_stats(
    request: Request, actor: ActorDep, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """Platform figures from the database; the streams' counters from the bus itself (right wherever
    the workers run); this process's ingest and detector counters where it runs them."""
    out = await asyncio.to_thread(service.stats, session, actor)
    pipeline = getattr(request.app.state, "pipeline", None)
    ingestor = getattr(pipeline, "ingestor", None)
    if ingestor is not None:
        out["ingest"] = {"accepted": ingestor.stats.accepted, "rejected": dict(ingestor.stats.rejected)}
    bus = getattr(pipeline, "bus", None)
    streams: dict[str, Any] = {}
    if bus is not None:
        topo = records.Topology(settings.stream_namespace)
        streams = await service.stream_stats(bus, {"telemetry": topo.stream, "faults": topo.faults_stream})
        out["streams"] = streams
    workers = getattr(pipeline, "workers", [])
    if workers:  # the detector runs here: its own counters
        out["detector"] = {
            "partitions": len(workers),
            "messages": sum(w.stats.messages for w in workers),
            "faults_stored": sum(w.stats.faults_stored for w in workers),
            "checkpoints": sum(w.stats.checkpoints for w in workers),
            "stream_pending": sum(w.stats.pending for w in workers),
        }
    else:  # it runs elsewhere: what the stream says is waiting for each partition
        pending = streams.get("telemetry", {}).get("detector_pending", {})
        out["detector"] = {
            "partitions": len(pending),
            "stream_pending": sum(pending.values()),
            "pending_by_partition": pending,
        }
    return out


@router.get("/elevators/{registration_code}/live", response_model=ElevatorLive)
def elevator_live(registration_code: PathCode, actor: ActorDep, session: SessionDep) -> ElevatorLive:
    live = service.live_status(session, actor, registration_code)
    return ElevatorLive(
        registration_code=registration_code,
        status=LiveStatusOut.model_validate(live) if live else None,
        open_faults=[FaultOut.model_validate(f) for f in service.open_faults(session, registration_code)],
    )


@router.get("/elevators/{registration_code}/faults", response_model=list[FaultOut])
def elevator_faults(
    registration_code: PathCode,
    actor: ActorDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[FaultOut]:
    return [
        FaultOut.model_validate(f) for f in service.fault_history(session, actor, registration_code, limit)
    ]


@router.get("/faults", response_model=list[FaultOut])
def list_faults(
    actor: ActorDep,
    session: SessionDep,
    open_only: Annotated[bool, Query(alias="open")] = True,
    fault_type: QueryStr | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[FaultOut]:
    """Faults in the caller's scope, newest first (open ones by default)."""
    codes = registry.scoped_codes(session, actor)
    faults = service.list_faults(session, codes, open_only=open_only, fault_type=fault_type, limit=limit)
    return [FaultOut.model_validate(f) for f in faults]


metrics_router = APIRouter(tags=["ops"])


@metrics_router.get("/metrics", include_in_schema=False)
def metrics(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Prometheus metrics for an admin's token or a scraper's LIFTWATCH_METRICS_TOKEN (they tell an
    outsider how busy and how far behind the platform is); LIFTWATCH_METRICS_PUBLIC=true opens them."""
    if not settings.metrics_public and not _is_metrics_scraper(request, settings.metrics_token):
        actor = current_actor(optional_actor(request, session, settings))
        if actor.role is not Role.ADMIN:
            raise Forbidden("only an admin, or a scraper with LIFTWATCH_METRICS_TOKEN, may read /metrics")
    pipeline = getattr(request.app.state, "pipeline", None)
    # the pipeline's registry holds the process metrics too; without a pipeline, those alone
    registry_ = getattr(getattr(pipeline, "metrics", None), "registry", None) or process_registry()
    return Response(generate_latest(registry_), media_type=CONTENT_TYPE_LATEST)


def _is_metrics_scraper(request: Request, secret: str) -> bool:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return (
        bool(secret)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(value.strip().encode(), secret.encode())
    )
