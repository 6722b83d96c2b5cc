from __future__ import annotations

import subprocess
import sys

from dingbridge import __version__


def test_version_flag_prints_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dingbridge", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == f"dingbridge {__version__}"


def test_help_lists_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dingbridge", "--help"], capture_output=True, text=True, check=True
    )
    assert "dingbridge" in out.stdout


def test_tests_cannot_leave_loopback() -> None:
    import socket

    import pytest

    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("oapi.dingtalk.com", 443)
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("203.0.113.5", 888))
