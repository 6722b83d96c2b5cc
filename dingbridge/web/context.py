"""What every request handler needs, built once by ``create_app`` and kept on ``app.state``.

Route modules (the console here, the sign-in flows later) get it with ``get_context(request)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request

from dingbridge.kv import KV
from dingbridge.metrics import ServerMetrics
from dingbridge.ratelimit import RateLimiter
from dingbridge.sessions import SessionStore
from dingbridge.settings import Settings
from dingbridge.signin.services import SignInServices
from dingbridge.spaces.secret_box import SecretBox
from dingbridge.storage.db import Database
from dingbridge.web.templating import Templates


@dataclass
class AppContext:
    settings: Settings
    db: Database
    kv: KV
    admin_sessions: SessionStore
    member_sessions: SessionStore
    ratelimit: RateLimiter
    secret_box: SecretBox
    templates: Templates
    announce: Callable[[str], None]
    """Prints to the operator's console (stdout), never to the logs: used for the setup link."""
    signin: SignInServices
    """Sign-in flows: SMS sender, verification codes, per-space DingTalk clients."""
    metrics: ServerMetrics = field(default_factory=ServerMetrics)
    """This app's Prometheus counters (DingTalk calls, token fetches, sign-ins, bindings)."""


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context
