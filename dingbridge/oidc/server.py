"""authlib's authorization server for one request of one space.

authlib's server hooks are synchronous; our storage (database, KV) is async. Each call into
authlib therefore runs in a worker thread (``anyio.to_thread.run_sync``, see
:func:`dingbridge.oidc.provider.in_worker`) and its hooks call back into the event loop with
``anyio.from_thread.run``: authlib decides, our async stores answer, nothing is loaded that a
request may not need. A server object is built per request around what that request already
knows (the space from the space cache, its signing keys, its issuer); building one costs a few
microseconds.

- grants: ``authorization_code`` with PKCE (S256 only, required for public clients) and the
  OpenID Connect ID token; ``refresh_token`` (rotated on use, reuse revokes the family);
- endpoints: revocation (RFC 7009), introspection (RFC 7662), end-session (RP-initiated
  logout); userinfo through authlib's bearer-token resource protector.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import anyio.from_thread
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    OAuth2Payload,
    OAuth2Request,
    ResourceProtector,
)
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import OpenIDCode, UserInfo
from authlib.oidc.rpinitiated import EndSessionEndpoint

from dingbridge.oidc.codes import AuthorizationCodes, CodeGrant, new_family
from dingbridge.oidc.signing_keys import ID_TOKEN_LIFETIME, SpaceKeys
from dingbridge.oidc.subjects import SCOPES, Subject, load_subject
from dingbridge.oidc.tokens import ACCESS_TOKEN_LIFETIME, TokenRecord, TokenStore, new_token
from dingbridge.signin.space_cache import AppView, SpaceView
from dingbridge.storage.db import Database

log = logging.getLogger(__name__)
# authlib logs each token it issues, and the requests it validates, at DEBUG ("Issue token
# {...} to ..."): never let that through, whatever level the server's log is at.
logging.getLogger("authlib").setLevel(logging.INFO)
T = TypeVar("T")
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
GRANT_TYPES = ("authorization_code", "refresh_token")


def run(fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run an async storage call from authlib's worker thread on the event loop."""
    result: T = anyio.from_thread.run(fn, *args)  # type: ignore[arg-type]
    return result


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _Headers(dict[str, str]):
    """HTTP headers looked up case-insensitively (authlib asks for ``Authorization``)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__((key.lower(), value) for key, value in headers.items())

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


class ProviderRequest(OAuth2Request):  # type: ignore[misc]
    """An HTTP request as authlib reads it, built by the web layer.

    authlib refuses plain-http URLs other than loopback; dingbridge also serves intranets over
    plain http when the operator chooses so (``--external-url http://…``), so the transport is
    the operator's decision: the URL is given to authlib's check as https."""

    def __init__(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        query: Sequence[tuple[str, str]],
        form: Sequence[tuple[str, str]] = (),
    ) -> None:
        checked = "https://" + url.removeprefix("http://") if url.startswith("http://") else url
        super().__init__(method, checked, headers=_Headers(headers))
        self._args = dict(query)
        self._form = dict(form)
        self.payload = _Payload([*query, *form])

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


@dataclass(frozen=True)
class OidcClient(ClientMixin):  # type: ignore[misc]
    """An OIDC app of the space as authlib's client."""

    app: AppView

    @property
    def client_id(self) -> str:
        return self.app.client_id or ""

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {"post_logout_redirect_uris": list(self.app.post_logout_redirect_uris)}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.app.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.app.redirect_uris  # exactly: no prefix, no case folding

    def check_client_secret(self, client_secret: str) -> bool:
        from dingbridge.spaces.app_access import client_secret_matches

        return client_secret_matches(self.app.client_secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.app.public_client:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


@dataclass(frozen=True)
class Grantee:
    """The signed-in member an authorization request is granted for."""

    member_id: int
    auth_time: int
    sid: str | None


@dataclass
class Backing:
    """What a request's server reads and writes (the async stores) and knows already."""

    space: SpaceView
    issuer: str
    keys: SpaceKeys
    db: Database
    codes: AuthorizationCodes
    tokens: TokenStore
    # The code this request redeemed (claimed in the KV), until its tokens are saved.
    claimed_code: str | None = None

    def client_ids(self) -> dict[int, str]:
        return {app.id: app.client_id for app in self.space.apps if app.client_id}

    async def subject(self, member_id: int) -> Subject | None:
        return await load_subject(self.db, self.space.id, member_id)


class _S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 only; a public client must send a challenge."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        client = grant.request.client
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.")
        public = isinstance(client, OidcClient) and client.app.public_client
        if public and not data.get("code_challenge"):
            raise InvalidRequestError("A public client must use PKCE (S256).")
        super().validate_code_challenge(grant, redirect_uri)


class _IdToken(OpenIDCode):  # type: ignore[misc]
    def __init__(self, backing: Backing) -> None:
        super().__init__(require_nonce=False)
        self.backing = backing

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return False  # codes are single use; the nonce is the app's to check

    def resolve_client_private_key(self, client: Any) -> Any:
        return self.backing.keys.signing

    def get_client_algorithm(self, client: Any) -> str:
        return self.backing.keys.alg

    def get_encode_header(self, client: Any) -> dict[str, str]:
        return {"alg": self.backing.keys.alg, "kid": self.backing.keys.kid, "typ": "JWT"}

    def get_client_claims(self, client: Any) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.backing.issuer,
            "aud": client.get_client_id(),
            "iat": now,
            "exp": now + ID_TOKEN_LIFETIME,
        }

    def get_authorization_code_claims(self, authorization_code: Any) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
        if isinstance(authorization_code, CodeGrant) and authorization_code.sid:
            claims["sid"] = authorization_code.sid
        return claims

    def generate_user_info(self, user: Subject, scope: str) -> UserInfo:
        return UserInfo(user.claims(scope))


def _bind_code_grant(backing: Backing) -> type[AuthorizationCodeGrant]:
    class CodeFlow(AuthorizationCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

        def save_authorization_code(self, code: str, request: Any) -> None:
            user: Grantee = request.user
            client: OidcClient = request.client
            data = request.payload.data
            grant = CodeGrant(
                space_id=backing.space.id,
                app_id=client.app.id,
                client_id=client.client_id,
                member_id=user.member_id,
                redirect_uri=data.get("redirect_uri", ""),
                scope=client.get_allowed_scope(data.get("scope", "")),
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                auth_time=user.auth_time,
                sid=user.sid,
                family=new_family(),
            )
            run(backing.codes.save, code, grant)

        def query_authorization_code(self, code: str, client: OidcClient) -> CodeGrant | None:
            grant, reused = run(backing.codes.take, code)
            if reused is not None:
                log.warning("space %d: an authorization code was used twice", backing.space.id)
                run(backing.tokens.revoke_family, reused, "code_reused")
                return None
            if grant is not None:
                backing.claimed_code = code
            if grant is None or grant.space_id != backing.space.id:
                return None
            return grant if grant.client_id == client.client_id else None

        def delete_authorization_code(self, authorization_code: CodeGrant) -> None:
            pass  # claimed once by AuthorizationCodes.take

        def authenticate_user(self, authorization_code: CodeGrant) -> Subject | None:
            subject = run(backing.subject, authorization_code.member_id)
            return subject if subject is not None and subject.active else None

    return CodeFlow


def _bind_refresh_grant(backing: Backing) -> type[RefreshTokenGrant]:
    class RefreshFlow(RefreshTokenGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
        INCLUDE_NEW_REFRESH_TOKEN = True

        def authenticate_refresh_token(self, refresh_token: str) -> TokenRecord | None:
            record = run(backing.tokens.find, refresh_token, backing.client_ids(), "refresh_token")
            if record is None:
                return None
            if record.revoked_reason == "rotated":
                log.warning(
                    "space %d: a rotated refresh token was used again: its family is revoked",
                    backing.space.id,
                )
                run(backing.tokens.revoke_family, record.family, "reused")
                return None
            if record.is_revoked() or record.is_expired():
                return None
            return record

        def authenticate_user(self, refresh_token: TokenRecord) -> Subject | None:
            subject = run(backing.subject, refresh_token.member_id)
            return subject if subject is not None and subject.active else None

        def revoke_old_credential(self, refresh_token: TokenRecord) -> None:
            run(backing.tokens.revoke, refresh_token.id, "rotated")

    return RefreshFlow


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def __init__(self, backing: Backing) -> None:
        super().__init__()
        self.backing = backing

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRecord | None:
        return run(
            self.backing.tokens.find, token_string, self.backing.client_ids(), token_type_hint
        )

    def revoke_token(self, token: TokenRecord, request: Any) -> None:
        if token.matched == "refresh_token":  # RFC 7009 §2.1: and the grant's access tokens
            run(self.backing.tokens.revoke_family, token.family, "revoked")
        else:
            run(self.backing.tokens.revoke, token.id, "revoked")


class _Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def __init__(self, backing: Backing) -> None:
        super().__init__()
        self.backing = backing

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRecord | None:
        return run(
            self.backing.tokens.find, token_string, self.backing.client_ids(), token_type_hint
        )

    def check_permission(self, token: TokenRecord, client: Any, request: Any) -> bool:
        return token.check_client(client)

    def introspect_token(self, token: TokenRecord) -> dict[str, Any]:
        subject = run(self.backing.subject, token.member_id)
        if subject is None or not subject.active:
            return {"active": False}
        expires = (
            token.refresh_expires_at
            if token.matched == "refresh_token"
            else token.issued_at + token.expires_in
        )
        return {
            "active": True,
            "client_id": token.client_id,
            "token_type": "Bearer" if token.matched == "access_token" else "refresh_token",
            "scope": token.scope,
            "sub": subject.sub,
            "aud": token.client_id,
            "iss": self.backing.issuer,
            "iat": token.issued_at,
            "exp": expires,
        }


class _EndSession(EndSessionEndpoint):  # type: ignore[misc]
    def __init__(self, backing: Backing) -> None:
        super().__init__()
        self.backing = backing

    def get_server_jwks(self) -> Any:
        return self.backing.keys.public

    def get_algorithms(self) -> list[str]:
        return ["RS256", "ES256"]

    def end_session(self, end_session_request: Any) -> None:
        pass  # the web layer ends the browser's session (its cookie) before answering


class _Bearer(BearerTokenValidator):  # type: ignore[misc]
    def __init__(self, backing: Backing) -> None:
        super().__init__()
        self.backing = backing

    def authenticate_token(self, token_string: str) -> TokenRecord | None:
        return run(
            self.backing.tokens.find, token_string, self.backing.client_ids(), "access_token"
        )


class SpaceServer(AuthorizationServer):  # type: ignore[misc]
    """authlib's authorization server for one request of one space."""

    def __init__(self, backing: Backing) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.backing = backing
        self.register_token_generator("default", self._generate_token)
        self.register_grant(
            _bind_code_grant(backing), [_S256Only(required=True), _IdToken(backing)]
        )
        self.register_grant(_bind_refresh_grant(backing))
        self.register_endpoint(_Revocation(backing))
        self.register_endpoint(_Introspection(backing))
        self.register_endpoint(_EndSession(backing))
        self.resources = ResourceProtector()
        self.resources.register_token_validator(_Bearer(backing))

    def query_client(self, client_id: str) -> OidcClient | None:
        app = self.backing.space.app_by_client_id(client_id or "")
        return OidcClient(app) if app is not None and app.kind == "oidc" else None

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        client: OidcClient = request.client
        if request.authorization_code is not None:
            origin: CodeGrant | TokenRecord = request.authorization_code
        else:
            origin = request.refresh_token
        run(
            _save,
            self.backing.tokens,
            dict(
                space_id=self.backing.space.id,
                app_id=client.app.id,
                member_id=origin.member_id,
                family=origin.family,
                sid=origin.sid,
                issuer=self.backing.issuer,
                scope=token.get("scope", ""),
                auth_time=origin.auth_time,
                access_token=token["access_token"],
                refresh_token=token.get("refresh_token"),
                expires_in=int(token["expires_in"]),
            ),
        )
        self.backing.claimed_code = None  # saved: from now on the code stays used

    @staticmethod
    def _generate_token(
        grant_type: str,
        client: OidcClient,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": new_token(),
            "expires_in": expires_in or ACCESS_TOKEN_LIFETIME,
            "scope": client.get_allowed_scope(scope or ""),
        }
        if include_refresh_token:
            token["refresh_token"] = new_token()
        return token

    def create_oauth2_request(self, request: Any) -> Any:
        return request

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, list(headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass


async def _save(tokens: TokenStore, values: dict[str, Any]) -> None:
    await tokens.save(**values)
