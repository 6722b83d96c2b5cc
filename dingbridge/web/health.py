"""``/healthz`` (the process answers), ``/readyz`` (the database answers), ``/metrics``."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dingbridge.context import get_context

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> Response:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    try:
        await get_context(request).db.ping()
    except Exception as exc:
        log.warning("readiness check failed: database unreachable (%s)", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    body = generate_latest(REGISTRY) + get_context(request).metrics.render()
    forwarder = getattr(request.app.state, "forwarder", None)
    if forwarder is not None:  # dingbridge serve --forwarder: its requests and latency too
        body += forwarder.metrics.render()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
