"""Control API for directory changes and event subscriptions (JSON, or a console form).

- ``POST /_sim/corps/{corp}/users/{userid}/leave`` ``{"reason"}`` — this user leaves
- ``POST /_sim/corps/{corp}/users/{userid}/mobile`` ``{"mobile"}`` — changes mobile
- ``POST /_sim/corps/{corp}/users/{userid}/departments`` ``{"dept_ids": [..]}`` — moves
- ``POST /_sim/corps/{corp}/users/{userid}/activate`` — activates (``user_active_org``)
- ``POST /_sim/corps/{corp}/users`` ``{"name", "mobile", "dept_ids", "userid"?}`` — joins
- ``POST /_sim/corps/{corp}/departments`` ``{"dept_id", "name", "parent_id"}``;
  ``PUT``/``DELETE /_sim/corps/{corp}/departments/{dept_id}``
- ``PUT /_sim/apps/{app_key}/callback`` ``{"url", "token", "aes_key"}`` (the ``check_url``
  handshake must succeed, as in the developer console); ``DELETE`` to stop pushing
- ``GET /_sim/events`` — events and every delivery attempt;
  ``POST /_sim/stream/disconnect`` ``{"app_key"?}`` — tell Stream clients to reconnect;
  ``POST /_sim/events/{event_id}/redeliver`` — send an event again over Stream, same eventId
  (DingTalk delivers at least once)

A form post (the simulator console) is answered with a redirect back to ``/_sim/``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from dingbridge.sim import directory_changes as changes
from dingbridge.sim.events import HttpSubscription, SimEvent
from dingbridge.sim.state import SimState


def _state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def _is_form(request: Request) -> bool:
    return "form" in request.headers.get("content-type", "")


async def _params(request: Request) -> dict[str, Any]:
    if _is_form(request):
        return {k: str(v) for k, v in (await request.form()).items()}
    raw = await request.body()
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _ints(value: Any) -> list[int]:
    if isinstance(value, str):
        value = [v for v in value.replace("，", ",").split(",") if v.strip()]
    if not isinstance(value, list):
        raise ValueError("dept_ids: expected a list of department ids")
    return [int(v) for v in value]


def _answer(request: Request, event: SimEvent | None, error: str = "") -> Response:
    if _is_form(request):
        target = "/_sim/" + (f"?error={quote(error)}" if error else "")
        return RedirectResponse(target, status_code=303)
    if error:
        return JSONResponse({"error": error}, status_code=400)
    body: dict[str, Any] = {"ok": True}
    if event is not None:
        body["event"] = {"event_id": event.event_id, "event_type": event.event_type}
    return JSONResponse(body)


Change = Callable[[SimState, Request, dict[str, Any]], SimEvent]


def _endpoint(change: Change) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            params = await _params(request)
            event = change(_state(request), request, params)
        except (ValueError, KeyError, TypeError) as exc:
            message = str(exc) if not isinstance(exc, KeyError) else f"missing {exc}"
            return _answer(request, None, message)
        return _answer(request, event)

    return endpoint


def _corp(request: Request) -> str:
    return str(request.path_params["corp_id"])


def _userid(request: Request) -> str:
    return str(request.path_params["userid"])


leave = _endpoint(
    lambda s, r, p: changes.user_leaves(s, _corp(r), _userid(r), str(p.get("reason", "")))
)
mobile = _endpoint(
    lambda s, r, p: changes.user_changes_mobile(s, _corp(r), _userid(r), str(p["mobile"]))
)
move = _endpoint(lambda s, r, p: changes.user_moves(s, _corp(r), _userid(r), _ints(p["dept_ids"])))
activate = _endpoint(lambda s, r, p: changes.user_activates(s, _corp(r), _userid(r)))
join = _endpoint(
    lambda s, r, p: changes.user_joins(
        s,
        _corp(r),
        name=str(p["name"]),
        mobile=str(p["mobile"]),
        dept_ids=_ints(p.get("dept_ids") or [1]),
        userid=str(p.get("userid", "")),
        email=str(p.get("email", "")),
    )
)
create_department = _endpoint(
    lambda s, r, p: changes.department_created(
        s, _corp(r), int(p["dept_id"]), str(p["name"]), int(p.get("parent_id") or 1)
    )
)
rename_department = _endpoint(
    lambda s, r, p: changes.department_renamed(
        s, _corp(r), int(r.path_params["dept_id"]), str(p["name"])
    )
)
remove_department = _endpoint(
    lambda s, r, p: changes.department_removed(s, _corp(r), int(r.path_params["dept_id"]))
)


async def put_callback(request: Request) -> Response:
    state = _state(request)
    app_key = str(request.path_params["app_key"])
    if app_key not in state.apps:
        return JSONResponse({"error": f"no app {app_key!r}"}, status_code=404)
    try:
        params = await _params(request)
        sub = HttpSubscription(str(params["url"]), str(params["token"]), str(params["aes_key"]))
    except (ValueError, KeyError) as exc:
        return _answer(request, None, f'expected {{"url", "token", "aes_key"}}: {exc}')
    why = await state.events.verify_url(app_key, sub)
    if why is not None:
        return _answer(request, None, f"check_url failed: {why}")
    state.events.http[app_key] = sub
    return _answer(request, None)


async def delete_callback(request: Request) -> Response:
    _state(request).events.http.pop(str(request.path_params["app_key"]), None)
    return JSONResponse({"ok": True})


async def get_events(request: Request) -> Response:
    hub = _state(request).events
    return JSONResponse(
        {
            "events": [
                {"event_id": e.event_id, "event_type": e.event_type, "corp_id": e.corp_id}
                | e.business_data()
                for e in hub.events
            ],
            "deliveries": [d.as_dict() for d in hub.deliveries],
            "connections": {k: len(v) for k, v in hub.connections.items() if v},
        }
    )


async def disconnect_streams(request: Request) -> Response:
    try:
        params = await _params(request)
    except ValueError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    key = params.get("app_key")
    told = _state(request).events.disconnect_all(str(key) if key else None)
    return JSONResponse({"told": told})


async def redeliver_event(request: Request) -> Response:
    event = _state(request).events.redeliver(request.path_params["event_id"])
    if event is None:
        return _answer(request, None, "no such event")
    return _answer(request, event)


_USER = "/_sim/corps/{corp_id}/users/{userid}"
ROUTES = [
    Route(f"{_USER}/leave", leave, methods=["POST"]),
    Route(f"{_USER}/mobile", mobile, methods=["POST"]),
    Route(f"{_USER}/departments", move, methods=["POST"]),
    Route(f"{_USER}/activate", activate, methods=["POST"]),
    Route("/_sim/corps/{corp_id}/users", join, methods=["POST"]),
    Route("/_sim/corps/{corp_id}/departments", create_department, methods=["POST"]),
    Route("/_sim/corps/{corp_id}/departments/{dept_id:int}", rename_department, methods=["PUT"]),
    Route("/_sim/corps/{corp_id}/departments/{dept_id:int}", remove_department, methods=["DELETE"]),
    Route("/_sim/apps/{app_key}/callback", put_callback, methods=["PUT", "POST"]),
    Route("/_sim/apps/{app_key}/callback", delete_callback, methods=["DELETE"]),
    Route("/_sim/events", get_events, methods=["GET"]),
    Route("/_sim/stream/disconnect", disconnect_streams, methods=["POST"]),
    Route("/_sim/events/{event_id}/redeliver", redeliver_event, methods=["POST"]),
]
