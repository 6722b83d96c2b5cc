"""A small async key-value interface for caches, sessions, codes and rate limits.

Two implementations sit behind one :class:`KV` protocol and pass one conformance suite
(``tests/kv/test_kv_conformance.py``):

- :class:`~dingbridge.kv.memory.MemoryKV`: in-process, bounded, TTLs by an injectable clock.
  The default for a single server process.
- :class:`~dingbridge.kv.redis.RedisKV`: Redis through ``redis.asyncio``, for several server
  instances that must share state. Keys are prefixed (``dingbridge:`` by default).

Values are bytes, keys are strings, TTLs are seconds (floats). ``create_kv(url)`` picks the
implementation from a URL: ``None`` or ``memory://`` for memory, ``redis://`` / ``rediss://`` /
``unix://`` for Redis (``?prefix=…`` sets the key prefix).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["KV", "KVError", "create_kv"]


class KVError(Exception):
    """A key-value store operation failed (bad URL, wrong value type, unreachable store)."""


@runtime_checkable
class KV(Protocol):
    """Async key-value store with per-key TTLs.

    ``ttl`` arguments are seconds; ``None`` means "no expiry". A TTL must be positive.
    """

    async def get(self, key: str) -> bytes | None:
        """The value of ``key``, or ``None`` when absent or expired."""
        ...

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``, replacing any value and TTL it had."""
        ...

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        """Store ``value`` only when ``key`` is absent; ``True`` when it was stored."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; removing an absent key is not an error."""
        ...

    async def incr(self, key: str, ttl: float | None = None) -> int:
        """Add one to the integer at ``key`` (absent counts as 0) and return the new value.

        ``ttl`` is applied only when this call creates the key; later calls keep its expiry.
        Raises :class:`KVError` when the stored value is not an integer.
        """
        ...

    async def ttl(self, key: str) -> float | None:
        """Seconds left before ``key`` expires; ``None`` when absent or without expiry."""
        ...

    async def close(self) -> None:
        """Release connections. The store is not used after this."""
        ...


def create_kv(url: str | None, *, clock: Callable[[], float] | None = None) -> KV:
    """Build the store named by ``url``.

    ``None``, ``""`` or ``memory://`` give a :class:`MemoryKV` (``clock`` drives its TTLs;
    ``time.monotonic`` by default). ``redis://``, ``rediss://`` and ``unix://`` URLs give a
    :class:`RedisKV`; ``clock`` is not used there (Redis keeps time).
    """
    if not url or url.startswith("memory:"):
        from dingbridge.kv.memory import MemoryKV

        return MemoryKV(clock=clock)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dingbridge.kv.redis import DEFAULT_PREFIX, RedisKV

        url, prefix = _split_prefix(url)
        return RedisKV.from_url(url, prefix=prefix or DEFAULT_PREFIX)
    scheme = url.split(":", 1)[0]
    raise KVError(
        f"unsupported key-value store URL scheme {scheme!r}: use memory:// or redis://host:port/db"
    )


def _split_prefix(url: str) -> tuple[str, str | None]:
    """A Redis URL without its ``prefix`` query parameter, and that parameter (the key prefix:
    several deployments, or tests, on one Redis database)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((value for name, value in query if name == "prefix"), None)
    rest = urlencode([(name, value) for name, value in query if name != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefix


def check_ttl(ttl: float | None) -> None:
    """Reject non-positive TTLs with a clear error (shared by the implementations)."""
    if ttl is not None and not ttl > 0:
        raise KVError(f"ttl must be a positive number of seconds, got {ttl!r}")
