"""The in-memory TokenStore passes the shared conformance suite."""

from __future__ import annotations

import pytest

from dingbridge.dingtalk.token_cache import MemoryTokenStore
from tests.dingtalk.token_store_conformance import TokenStoreConformance
from tests.kv.backends import FakeClock


class TestMemoryTokenStore(TokenStoreConformance):
    @pytest.fixture
    def token_store(self, clock: FakeClock) -> MemoryTokenStore:
        return MemoryTokenStore(clock=clock)
