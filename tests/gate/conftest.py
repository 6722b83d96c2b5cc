from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.gate.gate_world import CountingKV, open_gate_world
from tests.signin.signin_world import World, world_settings


@pytest.fixture
def counting_kv() -> CountingKV:
    return CountingKV()


@pytest.fixture
async def world(tmp_path: Path, counting_kv: CountingKV) -> AsyncIterator[World]:
    async with open_gate_world(world_settings(tmp_path / "data"), counting_kv) as opened:
        yield opened
