"""``create_app``: the whole simulated DingTalk at one base URL."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from dingbridge.sim.errors import api_response, oapi_request_id, oapi_response
from dingbridge.sim.gate import SimGate
from dingbridge.sim.handlers import (
    control,
    dashboard,
    departments,
    login,
    messages,
    oauth,
    tokens,
    users,
)
from dingbridge.sim.state import SimState


def _wrong_method(request: Request) -> Response | None:
    """A known path called with the wrong method: 43001 需要GET请求 / 43002 需要POST请求."""
    for route in request.app.routes:
        if isinstance(route, Route) and route.path == request.url.path and route.methods:
            post = "POST" in route.methods
            errcode, errmsg = (43002, "需要POST请求") if post else (43001, "需要GET请求")
            request.scope["sim.outcome"] = str(errcode)
            body: dict[str, Any] = {"errcode": errcode, "errmsg": errmsg}
            if request.url.path.startswith("/topapi/"):
                body["request_id"] = oapi_request_id()
            return oapi_response(body)
    return None


async def unknown_topapi(request: Request) -> Response:
    wrong = _wrong_method(request)
    if wrong is not None:
        return wrong
    name = "dingtalk.oapi." + request.path_params["rest"].strip("/").replace("/", ".")
    sub_msg = f"不合法ApiName，ApiName = {name}"
    request.scope["sim.outcome"] = "22"
    return oapi_response(
        {
            "errcode": 22,
            "sub_msg": sub_msg,
            "errmsg": f"Invalid method[submsg={sub_msg}]",
            "request_id": oapi_request_id(),
        }
    )


async def unknown_api(request: Request) -> Response:
    request.scope["sim.outcome"] = "InvalidAction.NotFound"
    body = {
        "code": "InvalidAction.NotFound",
        "message": "Specified api is not found, please check your url and method.",
    }
    return api_response(body, 404)


async def unknown_path(request: Request) -> Response:
    wrong = _wrong_method(request)
    if wrong is not None:
        return wrong
    request.scope["sim.outcome"] = "404"
    return oapi_response({"errcode": 404, "errmsg": "请求的URI地址不存在"})


def _routes() -> list[BaseRoute]:
    from dingbridge.sim.handlers import (
        directory_control,
        jsapi,
        leave_records,
        oauth_pages,
        stream,
    )

    routes: list[BaseRoute] = []
    for module in (tokens, login, users, departments, messages, oauth, oauth_pages, jsapi):
        routes += module.ROUTES
    routes += [*stream.ROUTES, *leave_records.ROUTES]
    routes += dashboard.ROUTES + control.ROUTES + directory_control.ROUTES
    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    routes += [
        Route("/topapi/{rest:path}", unknown_topapi, methods=methods),
        Route("/v1.0/{rest:path}", unknown_api, methods=methods),
        Route("/{rest:path}", unknown_path, methods=methods),
    ]
    return routes


def create_app(state: SimState | None = None) -> SimGate:
    """The simulator as an ASGI app; ``app.state`` is its :class:`SimState`."""
    sim_state = state or SimState.default()
    starlette = Starlette(routes=_routes())
    starlette.state.sim = sim_state
    return SimGate(starlette, sim_state)


def serve(state: SimState, host: str, port: int, **uvicorn_options: Any) -> None:
    """Run the simulator with uvicorn until interrupted (used by ``dingbridge sim``)."""
    import uvicorn

    from dingbridge.logs import setup_logging

    setup_logging()
    # uvicorn's access log prints query strings (appsecret, codes): the gate logs instead.
    uvicorn_options.setdefault("access_log", False)
    uvicorn_options.setdefault("server_header", False)
    # A "hang" fault never answers: do not let it hold up Ctrl+C for long.
    uvicorn_options.setdefault("timeout_graceful_shutdown", 2)
    uvicorn.run(create_app(state), host=host, port=port, **uvicorn_options)
