"""A space's ID-token signing keys: made on first use, private JWKs encrypted with the secret
box, rotated with ``dingbridge app rotate-keys SPACE``.

The newest active key signs. A rotation retires the active keys (``retired_at``) and makes a
new one; a retired key stays in the JWKS for :data:`RETIRED_KEPT` seconds, longer than any ID
token it signed lives, so apps can still verify them.

Each process keeps a space's keys while the space's key version in the shared KV
(``oidc-keys-version:{space}``) is unchanged, and at most :data:`CACHE_SECONDS`. A rotation
bumps that version (the server when it makes a space's first key, ``dingbridge app
rotate-keys`` when run with the servers' ``kv_url``), so every instance signs with the new key
from its next request; a rotation that could not reach the KV is seen within
:data:`CACHE_SECONDS`. An instance still signing with the retired key meanwhile does no harm:
the retired key stays in every instance's JWKS.

Reloading a space's keys reads their rows again, but a key whose row is unchanged (same id, same
encrypted JWK) is not decrypted and imported again: importing an RSA private key checks it, about
30 ms of CPU on the event loop, and the rows are reread every :data:`CACHE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.kv import KV, KVError
from dingbridge.spaces.secret_box import SecretBox
from dingbridge.storage.db import Database
from dingbridge.storage.models import OidcSigningKey, utcnow

ALGORITHMS = ("RS256", "ES256")
DEFAULT_ALGORITHM = "RS256"
ID_TOKEN_LIFETIME = 3600
RETIRED_KEPT = 2 * ID_TOKEN_LIFETIME
CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class SpaceKeys:
    signing: RSAKey | ECKey
    """The key that signs (its ``kid`` and ``alg`` are in its parameters)."""
    public: KeySet
    """Every key an app may still meet: the signing key and the recently retired ones."""

    @property
    def kid(self) -> str:
        return str(self.signing.kid)

    @property
    def alg(self) -> str:
        return str(self.signing.alg)

    def jwks(self) -> dict[str, Any]:
        return dict(self.public.as_dict(private=False))


def _generate(alg: str) -> RSAKey | ECKey:
    parameters: Any = {"kid": secrets.token_urlsafe(12), "alg": alg, "use": "sig"}
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=parameters, private=True)
    return RSAKey.generate_key(2048, parameters=parameters, private=True)


def _import(box: SecretBox, row: OidcSigningKey) -> RSAKey | ECKey:
    data = json.loads(box.decrypt(row.private_key_encrypted))
    key: RSAKey | ECKey = (ECKey if data.get("kty") == "EC" else RSAKey).import_key(data)
    return key


def _row(box: SecretBox, space_id: int, key: RSAKey | ECKey) -> OidcSigningKey:
    return OidcSigningKey(
        space_id=space_id,
        kid=str(key.kid),
        alg=str(key.alg),
        private_key_encrypted=box.encrypt(json.dumps(key.as_dict(private=True))),
    )


async def rotate_keys_in(
    session: AsyncSession, box: SecretBox, space_id: int, *, alg: str = DEFAULT_ALGORITHM
) -> str:
    """Retire the space's active keys and add a new one (in ``session``); the new ``kid``."""
    if alg not in ALGORITHMS:
        raise ValueError(f"the signing algorithm must be one of {', '.join(ALGORITHMS)}")
    key = await asyncio.to_thread(_generate, alg)
    await session.execute(
        update(OidcSigningKey)
        .where(OidcSigningKey.space_id == space_id, OidcSigningKey.retired_at.is_(None))
        .values(retired_at=utcnow())
    )
    session.add(_row(box, space_id, key))
    return str(key.kid)


def version_key(space_id: int) -> str:
    return f"oidc-keys-version:{space_id}"


async def publish_rotation(kv: KV, space_id: int) -> None:
    """Tell every instance sharing ``kv`` that the space's keys changed (after the commit)."""
    await kv.incr(version_key(space_id))


async def rotate_keys(
    db: Database, box: SecretBox, space_id: int, *, alg: str = DEFAULT_ALGORITHM
) -> str:
    async with db.transaction() as session:
        return await rotate_keys_in(session, box, space_id, alg=alg)


class SigningKeys:
    """The signing keys of every space, cached per process (see the module's docstring)."""

    def __init__(
        self,
        db: Database,
        box: SecretBox,
        kv: KV | None = None,
        *,
        alg: str = DEFAULT_ALGORITHM,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._box = box
        self._kv = kv
        self._alg = alg
        self._clock = clock
        self._cache: dict[int, tuple[float, bytes | None, SpaceKeys]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        # Imported keys by space, then by (row id, encrypted JWK): what the last load showed.
        self._imported: dict[int, dict[tuple[int, str], RSAKey | ECKey]] = {}

    def forget(self, space_id: int) -> None:
        self._cache.pop(space_id, None)
        self._imported.pop(space_id, None)

    async def _version(self, space_id: int) -> bytes | None:
        if self._kv is None:
            return None
        try:
            return await self._kv.get(version_key(space_id))
        except KVError:
            return b"unknown"  # the KV is down: rely on CACHE_SECONDS

    def _fresh(self, space_id: int, version: bytes | None) -> SpaceKeys | None:
        cached = self._cache.get(space_id)
        if cached is None or cached[1] != version:
            return None
        if self._clock() - cached[0] >= CACHE_SECONDS:
            return None
        return cached[2]

    async def for_space(self, space_id: int) -> SpaceKeys:
        version = await self._version(space_id)
        keys = self._fresh(space_id, version)
        if keys is not None:
            return keys
        async with self._locks.setdefault(space_id, asyncio.Lock()):
            keys = self._fresh(space_id, version)
            if keys is not None:
                return keys
            keys = await self._load(space_id)
            if keys is None:
                await rotate_keys(self._db, self._box, space_id, alg=self._alg)
                if self._kv is not None:
                    with contextlib.suppress(KVError):
                        await publish_rotation(self._kv, space_id)
                        version = await self._version(space_id)
                keys = await self._load(space_id)
                assert keys is not None
            self._cache[space_id] = (self._clock(), version, keys)
            return keys

    async def _load(self, space_id: int) -> SpaceKeys | None:
        kept_since = datetime.now(UTC) - timedelta(seconds=RETIRED_KEPT)
        async with self._db.session() as session:
            rows = list(
                await session.scalars(
                    select(OidcSigningKey)
                    .where(OidcSigningKey.space_id == space_id)
                    .order_by(OidcSigningKey.id.desc())
                )
            )
        active = [row for row in rows if row.retired_at is None]
        if not active:
            return None
        shown = [
            row for row in rows if row.retired_at is None or _aware(row.retired_at) > kept_since
        ]
        known = self._imported.get(space_id, {})
        imported = {
            (row.id, row.private_key_encrypted): known.get((row.id, row.private_key_encrypted))
            or _import(self._box, row)
            for row in shown
        }
        self._imported[space_id] = imported
        keys: list[Any] = list(imported.values())
        return SpaceKeys(signing=keys[0], public=KeySet(keys))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
