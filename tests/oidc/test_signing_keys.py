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
    world.app.state.oidc.keys.forget(10001)  # running servers re-read within 30 s
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
