"""The server's shared objects, built once by ``create_app`` and kept on ``app.state``.

Everything a request needs beyond the request itself: settings, database, KV, session stores,
rate limits, the secret box, the sign-in services and this app's metrics. Domain code takes an
:class:`AppContext`; web code gets it with ``get_context(request)``. This module imports no web
framework (``get_context`` only reads ``request.app.state``), so domain packages may use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from dingbridge.kv import KV
from dingbridge.metrics import ServerMetrics
from dingbridge.ratelimit import RateLimiter
from dingbridge.sessions import SessionStore
from dingbridge.settings import Settings
from dingbridge.signin.services import SignInServices
from dingbridge.spaces.secret_box import SecretBox
from dingbridge.storage.db import Database


@dataclass
class AppContext:
    settings: Settings
    db: Database
    kv: KV
    admin_sessions: SessionStore
    member_sessions: SessionStore
    ratelimit: RateLimiter
    secret_box: SecretBox
    announce: Callable[[str], None]
    """Prints to the operator's console (stdout), never to the logs: used for the setup link."""
    signin: SignInServices
    """Sign-in flows: SMS sender, verification codes, per-space DingTalk clients."""
    metrics: ServerMetrics = field(default_factory=ServerMetrics)
    """This app's Prometheus counters (DingTalk calls, token fetches, sign-ins, bindings)."""


class _HasApp(Protocol):
    @property
    def app(self) -> Any: ...


def get_context(request: _HasApp) -> AppContext:
    """The :class:`AppContext` of the app serving ``request`` (a Starlette request)."""
    context: AppContext = request.app.state.context
    return context
