"""The access log: one line per call, secrets redacted by :mod:`dingbridge.redact`.

Modes: ``-`` sends lines to the ``dingbridge.forwarder.access`` logger (captured by tests and by
whatever handlers the process configures); a file path appends lines to that file through a
buffer flushed every second and at exit (like nginx's ``access_log ... buffer=``); ``off``.
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import IO

from dingbridge.redact import redact_target

ACCESS_LOGGER = "dingbridge.forwarder.access"
logger = logging.getLogger(ACCESS_LOGGER)

# Request targets repeat (an access_token lives two hours): redact each distinct one once.
_redacted_target = lru_cache(maxsize=4096)(redact_target)


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
        self._file: IO[str] | None = None
        self._buffer: list[str] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        if mode not in ("-", "off", ""):
            self._file = open(mode, "a", encoding="utf-8")  # noqa: SIM115 - kept open

    @property
    def enabled(self) -> bool:
        return self.mode not in ("off", "") and (self._file is not None or logger.isEnabledFor(20))

    def write(self, line: str) -> None:
        if self._file is None:
            logger.info(line)
            return
        self._buffer.append(line)
        if self._flush_handle is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            self._flush_handle = loop.call_later(1.0, self.flush)

    def flush(self) -> None:
        self._flush_handle = None
        if self._file is not None and self._buffer:
            self._file.write("\n".join(self._buffer) + "\n")
            self._file.flush()
            self._buffer.clear()

    def close(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None
