"""The library side of ``dingbridge app rotate-keys SPACE``: run from the CLI, next to running
servers. With the servers' ``kv_url`` (``DINGBRIDGE_KV_URL``) the rotation is published there
and every instance signs with the new key from its next request; without it they pick it up
within ``signing_keys.CACHE_SECONDS``."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.kv import KVError, create_kv
from dingbridge.oidc.signing_keys import (
    CACHE_SECONDS,
    DEFAULT_ALGORITHM,
    publish_rotation,
    rotate_keys_in,
)
from dingbridge.settings import Settings, secret_keys
from dingbridge.spaces import audit
from dingbridge.spaces.headless import CLI_ACTOR, run_in_transaction
from dingbridge.spaces.secret_box import SecretBox
from dingbridge.spaces.store import get_space

log = logging.getLogger(__name__)


def rotate_space_keys(settings: Settings, space_id: int, alg: str = DEFAULT_ALGORITHM) -> str:
    """A new signing key for the space (the old ones stay in its JWKS until their ID tokens
    have expired); the new key's ``kid``."""
    box = SecretBox(secret_keys(settings))

    async def work(session: AsyncSession) -> str:
        await get_space(session, space_id)  # NotFound for an unknown space
        kid = await rotate_keys_in(session, box, space_id, alg=alg)
        await audit.record(
            session, CLI_ACTOR, "oidc.keys_rotated", f"space:{space_id}", {"kid": kid, "alg": alg}
        )
        return kid

    kid = run_in_transaction(settings, work)
    if settings.kv_url:
        asyncio.run(_publish(settings.kv_url, space_id))
    return kid


async def _publish(kv_url: str, space_id: int) -> None:
    kv = create_kv(kv_url)
    try:
        await publish_rotation(kv, space_id)
    except KVError as exc:
        log.warning(
            "space %d: the rotation could not be published to the KV (%s); running servers "
            "pick the new key up within %.0f s",
            space_id,
            exc,
            CACHE_SECONDS,
        )
    finally:
        await kv.close()
