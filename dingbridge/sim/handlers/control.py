"""The control API under ``/_sim/`` (JSON): fixture, faults, codes, request log, clock, messages."""

from __future__ import annotations

import json
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dingbridge.sim.faults import parse_fault
from dingbridge.sim.fixtures import FixtureError
from dingbridge.sim.state import SimState


def _state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def _problem(message: str, status: int = 400, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


async def _json(request: Request) -> Any:
    raw = await request.body()
    if "yaml" in request.headers.get("content-type", ""):
        return yaml.safe_load(raw)
    return json.loads(raw)


async def get_fixture(request: Request) -> Response:
    return JSONResponse(_state(request).fixture)


async def put_fixture(request: Request) -> Response:
    try:
        data = await _json(request)
        if not isinstance(data, dict):
            raise FixtureError(["the fixture must be an object with a 'corps' list"])
        _state(request).load_fixture(data)
    except (ValueError, yaml.YAMLError) as exc:
        problems = exc.problems if isinstance(exc, FixtureError) else [str(exc)]
        return _problem("invalid fixture", problems=problems)
    state = _state(request)
    return JSONResponse({"ok": True, "corps": sorted(state.corps), "apps": sorted(state.apps)})


async def get_faults(request: Request) -> Response:
    return JSONResponse({"faults": [f.as_dict() for f in _state(request).faults.faults]})


async def add_faults(request: Request) -> Response:
    try:
        data = await _json(request)
        faults = [parse_fault(raw) for raw in (data if isinstance(data, list) else [data])]
    except ValueError as exc:
        return _problem(str(exc))
    for fault in faults:
        _state(request).faults.add(fault)
    return JSONResponse({"faults": [f.as_dict() for f in _state(request).faults.faults]})


async def clear_faults(request: Request) -> Response:
    _state(request).faults.clear(request.query_params.get("path"))
    return JSONResponse({"faults": [f.as_dict() for f in _state(request).faults.faults]})


async def issue_authcode(request: Request) -> Response:
    try:
        data = await _json(request)
        code = _state(request).issue_authcode(str(data["corp_id"]), str(data["userid"]))
    except (ValueError, KeyError, TypeError):
        return _problem('expected {"corp_id": ..., "userid": ...}')
    except LookupError as exc:
        return _problem(str(exc), 404)
    return JSONResponse({"code": code})


async def get_requests(request: Request) -> Response:
    return JSONResponse({"requests": [e.as_dict() for e in _state(request).request_log]})


async def clear_requests(request: Request) -> Response:
    _state(request).request_log.clear()
    return JSONResponse({"requests": []})


async def advance_clock(request: Request) -> Response:
    state = _state(request)
    try:
        data = await _json(request)
        state.clock.advance(float(data["advance"]))
    except (ValueError, KeyError, TypeError) as exc:
        return _problem(f'expected {{"advance": seconds}} (non-negative): {exc}')
    return JSONResponse({"now": state.clock.now(), "offset": state.clock.offset})


async def get_messages(request: Request) -> Response:
    return JSONResponse({"messages": [m.as_dict() for m in _state(request).messages]})


async def get_settings(request: Request) -> Response:
    return JSONResponse(_state(request).settings.__dict__)


async def update_settings(request: Request) -> Response:
    try:
        data = await _json(request)
    except ValueError as exc:
        return _problem(str(exc))
    if not isinstance(data, dict):
        return _problem("expected an object of settings")
    problems = _state(request).settings.update(data)
    if problems:
        return _problem("invalid settings", problems=problems)
    return JSONResponse(_state(request).settings.__dict__)


ROUTES = [
    Route("/_sim/fixture", get_fixture, methods=["GET"]),
    Route("/_sim/fixture", put_fixture, methods=["PUT"]),
    Route("/_sim/faults", get_faults, methods=["GET"]),
    Route("/_sim/faults", add_faults, methods=["POST"]),
    Route("/_sim/faults", clear_faults, methods=["DELETE"]),
    Route("/_sim/authcode", issue_authcode, methods=["POST"]),
    Route("/_sim/requests", get_requests, methods=["GET"]),
    Route("/_sim/requests", clear_requests, methods=["DELETE"]),
    Route("/_sim/clock", advance_clock, methods=["POST"]),
    Route("/_sim/messages", get_messages, methods=["GET"]),
    Route("/_sim/settings", get_settings, methods=["GET"]),
    Route("/_sim/settings", update_settings, methods=["POST"]),
]
