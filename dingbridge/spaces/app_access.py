"""Who may use an app, and an OIDC app's client credentials — the rules shared by the space
home, the OpenID Connect provider and the forward-auth gate.

An app's ``access`` is ``all`` (every active member), ``departments`` (members of one of the
granted departments) or ``members`` (the granted members). Departments are the space's
:class:`~dingbridge.storage.models.Department` rows, compared by row id.

A client secret is 256 random bits shown once; only its SHA-256 is stored (as for API tokens,
a plain hash is enough for a secret of that strength, and a token request checks it in
microseconds).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection

CLIENT_ID_PREFIX = "dbc_"
CLIENT_SECRET_PREFIX = "dbs_"


def may_use(
    access: str,
    *,
    granted_departments: Collection[int],
    granted_members: Collection[int],
    member_id: int,
    member_departments: Collection[int],
) -> bool:
    """Whether the (active) member may use an app with these grants; unknown rules deny."""
    if access == "all":
        return True
    if access == "departments":
        return any(department in granted_departments for department in member_departments)
    if access == "members":
        return member_id in granted_members
    return False


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_hex(10)


def new_client_secret() -> str:
    return CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_client_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def client_secret_matches(stored_hash: str | None, secret: str) -> bool:
    """Constant-time check of a presented secret; a public client (no hash) never matches."""
    if not stored_hash:
        return False
    return hmac.compare_digest(stored_hash, hash_client_secret(secret))
