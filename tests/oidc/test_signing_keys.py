"""A space's signing keys: made on first use, rotated by ``dingbridge app rotate-keys``, the
old key kept in the JWKS so ID tokens it signed still verify; ES256 on request."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx

from dingbridge.oidc.headless import rotate_space_keys
from dingbridge.oidc.signing_keys import (
    CACHE_SECONDS,
    SigningKeys,
    publish_rotation,
    rotate_keys,
)
from dingbridge.spaces.secret_box import SecretBox
from dingbridge.spaces.store import create_space
from dingbridge.storage import migrate
from dingbridge.storage.db import Database
from tests.kv.backends import Backend
from tests.oidc.oidc_world import OidcWorld


async def _jwks(world: OidcWorld) -> list[dict[str, str]]:
    async with httpx.AsyncClient() as http:
        keys: list[dict[str, str]] = (await http.get(f"{world.issuer()}/oidc/jwks")).json()["keys"]
    return keys


async def test_rotation_adds_a_key_and_keeps_the_old_one(oidc_world: OidcWorld) -> None:
    world = oidc_world
    before = await _jwks(world)
    assert [k["alg"] for k in before] == ["RS256"]
    settings = world.context.settings
    kid = await asyncio.to_thread(rotate_space_keys, settings, 10001, "ES256")
    world.app.state.oidc.keys.forget(10001)  # the command ran without the servers' kv_url
    after = await _jwks(world)
    assert [k["kid"] for k in after] == [kid, before[0]["kid"]]
    assert after[0]["alg"] == "ES256" and after[0]["crv"] == "P-256"


def test_the_command_names_an_unknown_space(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DINGBRIDGE_")}
        command = [sys.executable, "-m", "dingbridge", "app", "rotate-keys", *args]
        command += ["--data-dir", str(tmp_path)]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)

    unknown = run("10009")
    assert unknown.returncode == 1 and "10009" in unknown.stderr
    refused = run("10001", "--alg", "HS256")
    assert refused.returncode == 2 and "RS256 or ES256" in refused.stderr


async def test_a_rotation_reaches_every_instance_at_once(
    tmp_path: Path, kv_backend: Backend
) -> None:
    """Two server instances (two key caches) share the database and the KV: after a rotation
    published to the KV, both sign with the new key on their next request (no waiting out the
    cache), and both still publish the old key."""
    url = f"sqlite:///{(tmp_path / 'keys.db').as_posix()}"
    await asyncio.to_thread(migrate.upgrade, url)
    db = Database(url)
    box = SecretBox(["k" * 40])
    try:
        async with db.transaction() as session:
            space = await create_space(session, "A", actor="test")
        instance_a = SigningKeys(db, box, kv_backend.kv)
        instance_b = SigningKeys(db, box, kv_backend.kv)
        first = await instance_a.for_space(space.id)  # made on first use, published
        assert (await instance_b.for_space(space.id)).kid == first.kid

        new_kid = await rotate_keys(db, box, space.id, alg="ES256")
        await publish_rotation(kv_backend.kv, space.id)
        for instance in (instance_a, instance_b):
            keys = await instance.for_space(space.id)
            assert keys.kid == new_kid and keys.alg == "ES256"
            assert [k["kid"] for k in keys.jwks()["keys"]] == [new_kid, first.kid]
    finally:
        await db.dispose()


async def test_a_rotation_no_instance_heard_of_signs_after_the_cache_time(tmp_path: Path) -> None:
    """Keys already imported are kept across reloads, yet a rotation that was not published (no
    KV) is signed with once the cache time has passed, the retired key still in the JWKS."""
    url = f"sqlite:///{(tmp_path / 'keys.db').as_posix()}"
    await asyncio.to_thread(migrate.upgrade, url)
    db = Database(url)
    box = SecretBox(["k" * 40])
    now = [1000.0]
    try:
        async with db.transaction() as session:
            space = await create_space(session, "A", actor="test")
        keys = SigningKeys(db, box, clock=lambda: now[0])
        first = await keys.for_space(space.id)
        now[0] += CACHE_SECONDS
        assert (await keys.for_space(space.id)).kid == first.kid  # reloaded: same key signs

        new_kid = await rotate_keys(db, box, space.id, alg="ES256")
        assert (await keys.for_space(space.id)).kid == first.kid  # within the cache time
        now[0] += CACHE_SECONDS
        rotated = await keys.for_space(space.id)
        assert rotated.kid == new_kid and rotated.alg == "ES256"
        assert [k["kid"] for k in rotated.jwks()["keys"]] == [new_kid, first.kid]
    finally:
        await db.dispose()
