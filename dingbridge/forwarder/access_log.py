"""The access log: one line per call, secrets redacted by :mod:`dingbridge.redact`.

Modes: ``-`` sends lines to the ``dingbridge.forwarder.access`` logger (captured by tests and by
whatever handlers the process configures); a file path appends lines to that file through a
buffer flushed every second, past 64 KiB and at exit (like nginx's ``access_log ... buffer=``);
``off``.

The file mode is on the forwarder's hot path: :meth:`AccessLog.record` formats the line as bytes
straight into one reused ``bytearray`` (no str line, no list of lines, no re-encoding).
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import IO

from dingbridge.redact import redact_target

ACCESS_LOGGER = "dingbridge.forwarder.access"
logger = logging.getLogger(ACCESS_LOGGER)

FLUSH_BYTES = 64 * 1024

# Request targets repeat (an access_token lives two hours): redact each distinct one once.
_redacted_target = lru_cache(maxsize=4096)(redact_target)


@lru_cache(maxsize=4096)
def _redacted_target_utf8(target: bytes) -> bytes:
    return redact_target(target).encode("utf-8")


_LINE = b'%b "%b %b" route=%b status=%d duration_ms=%.1f bytes_in=%d bytes_out=%d'


def format_access_line(
    peer: str,
    method: bytes,
    target: bytes,
    route: str,
    status: int,
    duration: float,
    bytes_in: int,
    bytes_out: int,
    error: str | None,
) -> str:
    line = (
        f'{peer} "{method.decode("latin-1")} {_redacted_target(target)}" route={route} '
        f"status={status} duration_ms={duration * 1000:.1f} bytes_in={bytes_in} "
        f"bytes_out={bytes_out}"
    )
    return f"{line} error={error}" if error else line


class AccessLog:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._file: IO[bytes] | None = None
        self._buffer = bytearray()
        self._flush_handle: asyncio.TimerHandle | None = None
        if mode not in ("-", "off", ""):
            self._file = open(mode, "ab", buffering=0)  # noqa: SIM115 - kept open

    @property
    def enabled(self) -> bool:
        return self.mode not in ("off", "") and (self._file is not None or logger.isEnabledFor(20))

    def record(
        self,
        peer: str,
        method: bytes,
        target: bytes,
        route: str,
        status: int,
        duration: float,
        bytes_in: int,
        bytes_out: int,
        error: str | None,
    ) -> None:
        """Log one call (the same line as :func:`format_access_line`)."""
        if self._file is None:
            line = format_access_line(
                peer, method, target, route, status, duration, bytes_in, bytes_out, error
            )
            logger.info(line)
            return
        buffer = self._buffer
        buffer += _LINE % (
            peer.encode("ascii", "replace"),
            method,
            _redacted_target_utf8(target),
            route.encode("ascii", "replace"),
            status,
            duration * 1000,
            bytes_in,
            bytes_out,
        )
        if error:
            buffer += b" error=" + error.encode("utf-8")
        buffer += b"\n"
        self._buffered()

    def write(self, line: str) -> None:
        if self._file is None:
            logger.info(line)
            return
        self._buffer += line.encode("utf-8") + b"\n"
        self._buffered()

    def _buffered(self) -> None:
        if len(self._buffer) >= FLUSH_BYTES:
            self.flush()
        elif self._flush_handle is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            self._flush_handle = loop.call_later(1.0, self.flush)

    def flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._file is not None and self._buffer:
            self._file.write(self._buffer)
            self._buffer.clear()

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None
