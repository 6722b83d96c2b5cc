"""In-process :class:`~dingbridge.kv.KV`: a bounded dict with TTLs by an injectable clock.

Operations never await, so each one is atomic with respect to other coroutines of the same
event loop. When the store is full, expired entries are dropped first, then the entries
written longest ago.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from dingbridge.kv import KVError, check_ttl

DEFAULT_MAX_ENTRIES = 100_000


class MemoryKV:
    """Dict-backed store; ``clock`` returns seconds (``time.monotonic`` by default)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        if max_entries < 1:
            raise KVError("max_entries must be at least 1")
        self._clock = clock or time.monotonic
        self._max_entries = max_entries
        # key -> (value, expires_at or None); order = least recently written first.
        self._data: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def _live(self, key: str) -> tuple[bytes, float | None] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        expires_at = entry[1]
        if expires_at is not None and expires_at <= self._clock():
            del self._data[key]
            return None
        return entry

    def _store(self, key: str, value: bytes, expires_at: float | None) -> None:
        if key in self._data:
            del self._data[key]
        elif len(self._data) >= self._max_entries:
            self._make_room()
        self._data[key] = (value, expires_at)

    def _make_room(self) -> None:
        now = self._clock()
        expired = [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]
        for k in expired:
            del self._data[k]
        while len(self._data) >= self._max_entries:
            self._data.popitem(last=False)

    def _expiry(self, ttl: float | None) -> float | None:
        check_ttl(ttl)
        return None if ttl is None else self._clock() + ttl

    async def get(self, key: str) -> bytes | None:
        entry = self._live(key)
        return None if entry is None else entry[0]

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._store(key, bytes(value), self._expiry(ttl))

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        expires_at = self._expiry(ttl)
        if self._live(key) is not None:
            return False
        self._store(key, bytes(value), expires_at)
        return True

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def incr(self, key: str, ttl: float | None = None) -> int:
        expires_at = self._expiry(ttl)
        entry = self._live(key)
        if entry is None:
            self._store(key, b"1", expires_at)
            return 1
        try:
            value = int(entry[0]) + 1
        except ValueError:
            raise KVError(f"value at {key!r} is not an integer") from None
        self._data[key] = (str(value).encode(), entry[1])
        return value

    async def ttl(self, key: str) -> float | None:
        entry = self._live(key)
        if entry is None or entry[1] is None:
            return None
        return max(0.0, entry[1] - self._clock())

    async def close(self) -> None:
        self._data.clear()
