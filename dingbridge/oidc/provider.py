"""What the web layer calls: one method per endpoint, each answering an :class:`Answer` (status,
body, headers) or, for the authorization endpoint, what the browser must do first.

The authorization endpoint is the space's sign-in. With a live session of an active member the
app is allowed to use, it answers with the code at once (nothing shown). Without one it answers
:class:`SignInNeeded`: the request is kept in the KV (:data:`RESUME_LIFETIME`) and the browser
goes through the space's sign-in (in-client JSAPI, DingTalk's OAuth page, SMS binding) with a
short ``resume`` URL as its destination, which comes back here. ``prompt=none`` never does
that: it answers ``login_required`` to the app.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oidc.core.errors import LoginRequiredError

from dingbridge.kv import KV
from dingbridge.oidc.backchannel import send_logouts
from dingbridge.oidc.codes import AuthorizationCodes
from dingbridge.oidc.logout_client import LogoutClient
from dingbridge.oidc.server import Backing, Grantee, OidcClient, ProviderRequest, SpaceServer, run
from dingbridge.oidc.signing_keys import ALGORITHMS, SigningKeys
from dingbridge.oidc.subjects import SCOPES
from dingbridge.oidc.tokens import TokenStore
from dingbridge.signin.member_sessions import SignedIn, space_path
from dingbridge.signin.space_cache import SpaceCache, SpaceView
from dingbridge.spaces.secret_box import SecretBox
from dingbridge.storage.db import Database

log = logging.getLogger(__name__)
T = TypeVar("T")
RESUME_LIFETIME = 15 * 60
CLAIMS = ("sub", "name", "preferred_username", "email", "phone_number", "groups", "dingtalk")


_FORBIDDEN_DESCRIPTION = "Error description contains forbidden characters"


async def in_worker(fn: Callable[..., T], *args: Any) -> T:
    """Run a synchronous authlib call in a worker thread; its hooks reach our async stores
    through :func:`dingbridge.oidc.server.run`.

    authlib quotes some parameters in its error descriptions (an unregistered
    ``redirect_uri``) and refuses to build the error when the value holds a character an
    ``error_description`` may not (a backslash, a quote, non-ASCII), with a ``ValueError``:
    that request gets a plain ``invalid_request`` instead of a server error."""
    try:
        return await anyio.to_thread.run_sync(fn, *args)
    except ValueError as exc:
        if str(exc).startswith(_FORBIDDEN_DESCRIPTION):
            raise InvalidRequestError() from None
        raise


async def _endpoint_answer(fn: Callable[..., tuple[int, Any, Any]], *args: Any) -> Answer:
    """An authlib endpoint's answer, its errors (those :func:`in_worker` raises) as JSON."""
    try:
        return Answer(*await in_worker(fn, *args))
    except OAuth2Error as error:
        status, payload, headers = error()
        return Answer(status, dict(payload), list(headers))


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class SignInNeeded:
    """Send the browser through the space's sign-in, then to ``resume`` (a path of the space)."""

    resume: str
    fresh: bool
    """The app asked for a new sign-in (``prompt=login``, ``max_age``): skip a live session."""


@dataclass(frozen=True)
class AppRefused:
    """The member may not use this app (its access rules)."""

    app_title: str


@dataclass(frozen=True)
class BadRequest:
    """An error that must not go back to the app (unknown client, unregistered redirect URI,
    an expired sign-in): shown as a page."""

    error: str
    description: str


@dataclass(frozen=True)
class EndSession:
    """A validated RP-initiated logout: end the browser's session, then ``answer``."""

    needs_confirmation: bool
    sub: str | None
    server: SpaceServer
    validated: Any

    async def finish(self) -> Answer | None:
        """The redirect to the registered ``post_logout_redirect_uri``, or ``None``."""
        result = await in_worker(
            self.server.create_endpoint_response, "end_session", self.validated
        )
        return Answer(*result) if result is not None else None


def discovery(issuer: str) -> dict[str, Any]:
    """The provider metadata at ``{issuer}/.well-known/openid-configuration``."""
    endpoint = f"{issuer}/oidc"
    auth_methods = ["client_secret_basic", "client_secret_post", "none"]
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{endpoint}/authorize",
        "token_endpoint": f"{endpoint}/token",
        "userinfo_endpoint": f"{endpoint}/userinfo",
        "jwks_uri": f"{endpoint}/jwks",
        "revocation_endpoint": f"{endpoint}/revoke",
        "introspection_endpoint": f"{endpoint}/introspect",
        "end_session_endpoint": f"{endpoint}/logout",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(ALGORITHMS),
        "scopes_supported": list(SCOPES),
        "claims_supported": list(CLAIMS),
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }


class Provider:
    """The OpenID provider of every space of one server."""

    def __init__(
        self,
        db: Database,
        kv: KV,
        box: SecretBox,
        spaces: SpaceCache,
        sid_key: bytes,
        *,
        alg: str = "RS256",
    ) -> None:
        self.db = db
        self.kv = kv
        self.spaces = spaces
        self.keys = SigningKeys(db, box, kv, alg=alg)
        self.codes = AuthorizationCodes(kv)
        self.tokens = TokenStore(db)
        self.logout_client = LogoutClient()
        self._sid_key = sid_key

    def sid(self, session_handle: str) -> str:
        """The ``sid`` apps see for a sign-in session (never the session id or its handle)."""
        return hmac.new(self._sid_key, session_handle.encode(), hashlib.sha256).hexdigest()[:32]

    async def _server(self, space: SpaceView, issuer: str) -> SpaceServer:
        keys = await self.keys.for_space(space.id)
        return SpaceServer(Backing(space, issuer, keys, self.db, self.codes, self.tokens))

    async def jwks(self, space_id: int) -> dict[str, Any]:
        return (await self.keys.for_space(space_id)).jwks()

    # -- authorization endpoint ------------------------------------------------------------
    async def authorize(
        self,
        space: SpaceView,
        issuer: str,
        url: str,
        headers: dict[str, str],
        query: Sequence[tuple[str, str]],
        current: SignedIn | None,
    ) -> Answer | SignInNeeded | AppRefused | BadRequest:
        params = dict(query)
        resume_id = params.get("resume", "") if len(params) == 1 else ""
        not_before = 0.0
        if resume_id:
            stored = await self.kv.get(f"oidc-resume:{_digest(resume_id)}")
            if stored is None:
                return BadRequest("expired", "This sign-in has expired. Open the app again.")
            kept = json.loads(stored)
            query = [(k, v) for k, v in kept["query"]]
            params = dict(query)
            not_before = float(kept["not_before"])
        request = ProviderRequest("GET", url, headers, query)
        server = await self._server(space, issuer)
        grantee = None
        if current is not None and current.session.created_at >= not_before:
            grantee = Grantee(
                current.member.id, int(current.session.created_at), self.sid(current.session.handle)
            )
        try:
            grant = await in_worker(server.get_consent_grant, request, grantee)
        except OAuth2Error as error:
            if error.redirect_uri:
                return Answer(*server.handle_error_response(request, error))
            return BadRequest(error.error, error.get_error_description() or error.error)
        max_age = params.get("max_age", "")
        too_old = (
            grantee is not None
            and max_age.isdigit()
            and time.time() - grantee.auth_time > int(max_age)
        )
        if grantee is None or grant.prompt == "login" or too_old:
            if "none" in params.get("prompt", "").split():
                required = LoginRequiredError(redirect_uri=grant.redirect_uri)
                required.state = params.get("state")
                return Answer(*server.handle_error_response(request, required))
            kept_query = [(k, v) for k, v in query if k not in ("prompt", "max_age")]
            resume_id = secrets.token_urlsafe(18)
            await self.kv.set(
                f"oidc-resume:{_digest(resume_id)}",
                json.dumps({"query": kept_query, "not_before": time.time()}).encode(),
                ttl=RESUME_LIFETIME,
            )
            fresh = grantee is not None  # a live session that does not do: sign in again
            return SignInNeeded(f"{space_path(space.id)}oidc/authorize?resume={resume_id}", fresh)
        assert current is not None
        client: OidcClient = grant.client
        if not client.app.allows(current.member):
            return AppRefused(client.app.title)
        result = await in_worker(server.create_authorization_response, request, grantee, grant)
        return Answer(*result)

    # -- token, userinfo, revocation, introspection -----------------------------------------
    async def token(self, space: SpaceView, issuer: str, request: ProviderRequest) -> Answer:
        server = await self._server(space, issuer)
        try:
            return await _endpoint_answer(server.create_token_response, request)
        except Exception:
            # No tokens were saved (the database failed): the code must not be used up, or
            # the app's retry is refused and the person has to sign in again.
            claimed = server.backing.claimed_code
            if claimed is not None:
                await self.codes.release(claimed)
            raise

    async def revoke(self, space: SpaceView, issuer: str, request: ProviderRequest) -> Answer:
        server = await self._server(space, issuer)
        return await _endpoint_answer(server.create_endpoint_response, "revocation", request)

    async def introspect(self, space: SpaceView, issuer: str, request: ProviderRequest) -> Answer:
        server = await self._server(space, issuer)
        return await _endpoint_answer(server.create_endpoint_response, "introspection", request)

    async def userinfo(self, space: SpaceView, issuer: str, request: ProviderRequest) -> Answer:
        server = await self._server(space, issuer)

        def claims() -> dict[str, Any]:
            token = server.resources.validate_request(["openid"], request)
            subject = run(server.backing.subject, token.member_id)
            if subject is None or not subject.active:
                from authlib.oauth2.rfc6750 import InvalidTokenError

                raise InvalidTokenError()
            return subject.claims(token.scope)

        try:
            body = await in_worker(claims)
        except OAuth2Error as error:
            status, payload, headers = error()
            return Answer(status, payload, list(headers))
        return Answer(200, body, [("Cache-Control", "no-store"), ("Pragma", "no-cache")])

    # -- logout ----------------------------------------------------------------------------
    async def end_session(
        self, space: SpaceView, issuer: str, request: ProviderRequest
    ) -> EndSession | BadRequest:
        server = await self._server(space, issuer)
        try:
            validated = await in_worker(server.validate_endpoint_request, "end_session", request)
        except OAuth2Error as error:
            return BadRequest(error.error, error.get_error_description() or error.error)
        claims = validated.id_token_claims or {}
        if claims and claims.get("iss") != issuer:
            return BadRequest("invalid_request", "The ID token was not issued by this space.")
        return EndSession(validated.needs_confirmation, claims.get("sub"), server, validated)

    async def sessions_ended(self, space_id: int, member_id: int, handle: str | None) -> None:
        """A member's session (or all of them) ended: revoke their app tokens and tell the
        apps that registered a back-channel logout URI."""
        sid = self.sid(handle) if handle is not None else None
        issued = await self.tokens.revoke_member(space_id, member_id, sid=sid)
        if not issued:
            return
        try:
            space = await self.spaces.space(space_id)
        except Exception:  # the space was disabled or deleted: nobody to tell
            return
        sent = await send_logouts(self.db, self.keys, self.logout_client, space, issued)
        log.info("space %d: member %d signed out of %d app(s)", space_id, member_id, sent)

    async def aclose(self) -> None:
        await self.logout_client.aclose()


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
