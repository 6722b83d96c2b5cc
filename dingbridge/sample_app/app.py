"""The sample relying party (``create_sample_app``): a Starlette app around authlib's client.

Routes: ``/`` (the claims, or straight to sign-in when nobody is signed in: inside DingTalk the
space signs the employee in without a page, so the app opens signed in; ``/?prompt=none`` asks
the space silently, ``/?prompt=login`` for a new sign-in), ``/callback`` (the
redirect URI), ``/logout`` (RP-initiated logout), ``/signed-out``, and ``/backchannel-logout``
(the space POSTs a logout token there when the member signs out, is disabled or unbound).

The browser session is Starlette's signed cookie; a back-channel logout marks its ``sid`` (and
``sub``) ended here, and the next request finds it so and starts over.
"""

from __future__ import annotations

import logging
import secrets
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    # authlib 1.9 announces a move of its httpx client to "httpx2"; the client we use is
    # unchanged, so its import-time notice is not ours to show.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth, OAuthError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

log = logging.getLogger(__name__)

SESSION_COOKIE = "sample_app_session"
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
)


@dataclass
class SampleAppConfig:
    issuer: str
    """The space's issuer, e.g. ``http://127.0.0.1:8000/10001``."""
    client_id: str
    client_secret: str
    base_url: str
    """Where this app is reached, e.g. ``http://127.0.0.1:8002`` (its redirect URI is
    ``{base_url}/callback``)."""
    scope: str = "openid profile email phone groups"
    title: str = "示例应用"
    client_kwargs: dict[str, Any] = field(default_factory=dict)
    """Passed to authlib's (httpx) client, e.g. a ``transport`` in tests."""

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/callback"

    @property
    def post_logout_redirect_uri(self) -> str:
        return f"{self.base_url}/signed-out"

    @property
    def backchannel_logout_uri(self) -> str:
        return f"{self.base_url}/backchannel-logout"


@dataclass
class _Ended:
    """Sessions ended by back-channel logout (by ``sid``, and by ``sub`` when no sid came)."""

    sids: set[str] = field(default_factory=set)
    subs: set[str] = field(default_factory=set)

    def covers(self, user: dict[str, Any]) -> bool:
        return user.get("sid") in self.sids or user.get("sub") in self.subs


def create_sample_app(config: SampleAppConfig) -> Starlette:
    oauth = OAuth()
    client = oauth.register(
        "dingbridge",
        client_id=config.client_id,
        client_secret=config.client_secret,
        server_metadata_url=f"{config.issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": config.scope,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
            **config.client_kwargs,
        },
    )
    ended = _Ended()

    def page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = _TEMPLATES.get_template(name).render(title=config.title, **values)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def current_user(request: Request) -> dict[str, Any] | None:
        user = request.session.get("user")
        if not isinstance(user, dict):
            return None
        if ended.covers(user):
            request.session.clear()
            return None
        return user

    async def home(request: Request) -> Response:
        user = current_user(request)
        prompt = request.query_params.get("prompt")
        if user is None or prompt in ("none", "login"):
            # /?prompt=none asks the space silently; /?prompt=login asks for a new sign-in
            extra = {"prompt": prompt} if prompt in ("none", "login") else {}
            redirect: Response = await client.authorize_redirect(
                request, config.redirect_uri, **extra
            )
            return redirect
        return page("home.html", user=user, claims=user.get("claims", {}))

    async def callback(request: Request) -> Response:
        try:
            token = await client.authorize_access_token(request)
            userinfo = await client.userinfo(token=token)
        except OAuthError as exc:
            log.info("sample app: sign-in failed: %s", exc.error)
            return page("error.html", status=400, error=exc.error, detail=exc.description)
        claims = dict(token.get("userinfo") or {})
        request.session["user"] = {
            "sub": claims.get("sub"),
            "sid": claims.get("sid"),
            "claims": claims,
            "userinfo": dict(userinfo),
            "id_token": token.get("id_token"),
        }
        return RedirectResponse("/", status_code=303)

    async def logout(request: Request) -> Response:
        user = request.session.get("user") or {}
        request.session.clear()
        redirect: Response = await client.logout_redirect(
            request,
            post_logout_redirect_uri=config.post_logout_redirect_uri,
            id_token_hint=user.get("id_token"),
            state=secrets.token_urlsafe(16),
        )
        return redirect

    async def signed_out(request: Request) -> Response:
        return page("signed_out.html")

    async def backchannel_logout(request: Request) -> Response:
        form = await request.form()
        logout_token = str(form.get("logout_token", ""))
        try:
            claims = await _verify_logout_token(client, config, logout_token)
        except (JoseError, ValueError) as exc:
            log.info("sample app: logout token refused: %s", exc)
            return PlainTextResponse("invalid logout token", status_code=400)
        if claims.get("sid"):
            ended.sids.add(str(claims["sid"]))
        else:
            ended.subs.add(str(claims["sub"]))
        return Response(status_code=200, headers={"Cache-Control": "no-store"})

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/callback", callback),
            Route("/logout", logout, methods=["POST"]),
            Route("/signed-out", signed_out),
            Route("/backchannel-logout", backchannel_logout, methods=["POST"]),
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=secrets.token_urlsafe(32),
                session_cookie=SESSION_COOKIE,
                same_site="lax",
                https_only=config.base_url.startswith("https:"),
            )
        ],
    )
    app.state.ended = ended
    return app


async def _verify_logout_token(
    client: Any, config: SampleAppConfig, logout_token: str
) -> dict[str, Any]:
    """The logout token's claims after OpenID Connect Back-Channel Logout 1.0 §2.6 checks:
    signature against the issuer's JWKS, ``iss``, ``aud``, ``iat``, the event, a ``sub`` or
    ``sid``, and no ``nonce``."""
    if not logout_token:
        raise ValueError("no logout_token")
    keys = KeySet.import_key_set(await client.fetch_jwk_set())
    token = jwt.decode(logout_token, keys)
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": config.issuer},
        aud={"essential": True, "value": config.client_id},
        iat={"essential": True},
    )
    registry.validate(token.claims)
    claims = dict(token.claims)
    events = claims.get("events")
    if not isinstance(events, dict) or BACKCHANNEL_EVENT not in events:
        raise ValueError("not a back-channel logout event")
    if "nonce" in claims:
        raise ValueError("a logout token carries no nonce")
    if not claims.get("sub") and not claims.get("sid"):
        raise ValueError("a logout token names a sub or a sid")
    return claims
