"""THE application factory: ``create_app(settings)`` wires storage, stores and every route.

``dingbridge serve``, the tests and ``dingbridge demo`` all build the server here. Route modules
are plain ``APIRouter`` objects listed in :func:`_include_routers`. The sign-in routes come
first: they only match paths starting with a space number (``/{space_id:int}/…``), and FastAPI
tries routes in order, so the busiest page (a signed-in page view) is found at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from dingbridge import __version__
from dingbridge.accounts.setup_link import announce_setup_link_when_ready
from dingbridge.context import AppContext
from dingbridge.events.background import start_event_tasks, stop_event_tasks
from dingbridge.gate import gate_sessions
from dingbridge.keys import derive_key
from dingbridge.kv import KV, create_kv
from dingbridge.logs import AccessLogMiddleware
from dingbridge.metrics import ServerMetrics
from dingbridge.oidc.provider import Provider
from dingbridge.ratelimit import RateLimiter
from dingbridge.sessions import SessionStore
from dingbridge.settings import Settings, secret_keys
from dingbridge.signin.member_sessions import access_ended
from dingbridge.signin.services import SignInServices
from dingbridge.signin.work_notices import BINDING_MADE, bindings_made
from dingbridge.spaces.directory_jobs import stop_imports
from dingbridge.spaces.members import ACCESS_ENDED
from dingbridge.spaces.secret_box import SecretBox
from dingbridge.storage import migrate
from dingbridge.storage.db import Database
from dingbridge.web.csrf import CsrfMiddleware
from dingbridge.web.errors import install_error_handlers
from dingbridge.web.forwarder_mount import ForwarderRoutes, build_forwarder
from dingbridge.web.request_metrics import RequestMetricsMiddleware
from dingbridge.web.security_headers import SecurityHeadersMiddleware
from dingbridge.web.templating import Templates

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "web" / "static"


def create_app(
    settings: Settings,
    *,
    kv: KV | None = None,
    announce: Callable[[str], None] | None = None,
) -> FastAPI:
    """The server as one ASGI app. ``kv`` overrides ``settings.kv_url`` (tests share one);
    ``announce`` prints operator messages such as the setup link (default: stdout)."""
    kv = kv if kv is not None else create_kv(settings.kv_url)
    keys = secret_keys(settings)
    secret_box = SecretBox(keys)
    db = Database(settings.effective_database_url)
    metrics = ServerMetrics()  # per app: several apps in one process keep their own counts
    context = AppContext(
        settings=settings,
        db=db,
        kv=kv,
        admin_sessions=SessionStore(
            kv,
            idle_timeout=settings.admin_session_idle,
            absolute_timeout=settings.admin_session_absolute,
        ),
        member_sessions=SessionStore(
            kv, idle_timeout=settings.session_idle, absolute_timeout=settings.session_absolute
        ),
        ratelimit=RateLimiter(kv),
        secret_box=secret_box,
        announce=announce or _print,
        signin=SignInServices.build(
            settings,
            kv,
            secret_box,
            keys[0],
            db,
            observer=metrics.dingtalk_call,
            pacing_observer=metrics.pacing,
        ),
        metrics=metrics,
    )
    oidc = Provider(db, kv, secret_box, context.signin.spaces, derive_key(keys[0], "oidc-sid"))
    context.signin.session_listeners.append(oidc.sessions_ended)
    context.signin.session_listeners.append(partial(gate_sessions.member_sessions_ended, context))
    # A member disabled, deleted or unbound (by anything) loses every session once it commits.
    db.after_commit(ACCESS_ENDED, partial(access_ended, context))
    # A new binding: a work notification to the DingTalk user, when the space says so.
    db.after_commit(BINDING_MADE, partial(bindings_made, context))
    forwarder = build_forwarder(settings) if settings.forwarder else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await asyncio.to_thread(migrate.upgrade, settings.effective_database_url)
        retrying = await announce_setup_link_when_ready(context)
        events = start_event_tasks(context)
        yield
        await stop_event_tasks(events)
        if retrying is not None:
            retrying.cancel()
        await stop_imports()
        if forwarder is not None:
            await forwarder.aclose()
        await oidc.aclose()
        await context.signin.aclose()
        await context.db.dispose()
        await context.kv.close()

    app = FastAPI(
        title="dingbridge",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.context = context
    app.state.oidc = oidc
    app.state.templates = Templates(
        settings.language, zone=settings.tzinfo, auto_reload=settings.development
    )
    install_error_handlers(app)
    app.state.forwarder = forwarder
    # Inside the forwarder's prefixes (which answer for DingTalk): CSRF, security headers.
    app.add_middleware(CsrfMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, jsapi_url=settings.jsapi_url)
    if forwarder is not None:
        app.add_middleware(ForwarderRoutes, forwarder=forwarder)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    app.add_middleware(AccessLogMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _include_routers(app)
    return app


def _include_routers(app: FastAPI) -> None:
    from dingbridge.web import favicon, gate_endpoints, health, language
    from dingbridge.web.api import api_routers
    from dingbridge.web.console import console_routers
    from dingbridge.web.space import gate, outbox, space_routers

    # The forward-auth check first: a proxy asks it on every request to a protected app.
    app.router.routes.extend(gate_endpoints.routes)
    for router in (
        # The space pages (/{space}/...) first: most requests are theirs (bench/signin: -25 %
        # CPU per page view when they are found first).
        *space_routers(),
        gate.router,
        gate_endpoints.router,
        health.router,
        favicon.router,
        language.router,
        *console_routers(),
        *api_routers(),
        outbox.router,
    ):
        app.include_router(router)


def _print(message: str) -> None:
    print(message, flush=True)
