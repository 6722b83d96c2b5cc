"""``/healthz`` (the process answers), ``/readyz`` (the database answers), ``/metrics``."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dingbridge.context import get_context
from dingbridge.kv import KVError

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> Response:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    """Ready when the database and the key-value store answer; each is named in the body
    (``"redis"`` when ``--kv-url`` names one), ``"problems"`` says what is down. The database
    is ``"full"`` or ``"read-only"`` for a while after a write failed so (until a write
    succeeds, at most ``WRITE_FAILURE_MEMORY`` seconds)."""
    context = get_context(request)
    body: dict[str, object] = {"status": "ok", "database": "ok"}
    problems: list[str] = []
    try:
        await context.db.ping()
    except Exception as exc:
        log.warning("readiness check failed: database unreachable (%s)", type(exc).__name__)
        body["database"] = "unreachable"
        problems.append("the database does not answer")
    else:
        failure = context.db.write_failure()  # answers, but a write failed just now
        if failure is not None:
            body["database"] = failure
            problems.append(f"the database cannot be written ({failure})")
    if context.settings.kv_url:  # the in-process store cannot be down
        body["redis"] = "ok"
        try:
            await context.kv.get("readyz")
        except KVError:
            log.warning("readiness check failed: Redis (--kv-url) is unreachable")
            body["redis"] = "unreachable"
            problems.append("Redis (--kv-url) does not answer")
    if problems:
        body.update(status="unavailable", problems=problems)
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    body = generate_latest(REGISTRY) + get_context(request).metrics.render()
    forwarder = getattr(request.app.state, "forwarder", None)
    if forwarder is not None:  # dingbridge serve --forwarder: its requests and latency too
        body += forwarder.metrics.render()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
