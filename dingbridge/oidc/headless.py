"""The library side of ``dingbridge app rotate-keys SPACE``: run from the CLI, next to a
running server (which picks the new key up within ``signing_keys.CACHE_SECONDS``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.oidc.signing_keys import DEFAULT_ALGORITHM, rotate_keys_in
from dingbridge.settings import Settings, secret_keys
from dingbridge.spaces import audit
from dingbridge.spaces.headless import CLI_ACTOR, run_in_transaction
from dingbridge.spaces.secret_box import SecretBox
from dingbridge.spaces.store import get_space


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

    return run_in_transaction(settings, work)
