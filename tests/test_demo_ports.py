"""The demo's ports: a quick restart keeps the simulator's and forwarder's ports (and so the
printed URLs) even while the last run's connections linger in TIME_WAIT."""

from __future__ import annotations

import socket
import sys

import pytest

from dingbridge.demo import _free_port, _socket_near
from dingbridge.server_runner import PortInUse, listening_socket


def _port_in_time_wait() -> int:
    """A port no one listens on, with a connection of the last "run" in TIME_WAIT on it
    (the server side closed first, as a stopping server does; its listener had SO_REUSEADDR,
    as the demo's and uvicorn's have)."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = int(listener.getsockname()[1])
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the active close: TIME_WAIT stays on 127.0.0.1:port
        client.recv(1)
        client.close()
    return port


@pytest.mark.skipif(sys.platform == "win32", reason="TIME_WAIT reuse is the POSIX behaviour")
def test_a_port_in_time_wait_is_free_for_the_demo() -> None:
    port = _port_in_time_wait()
    assert _free_port("127.0.0.1", port) == port
    with _socket_near("127.0.0.1", port) as sock:
        assert sock.getsockname()[1] == port


def test_a_listened_port_is_taken() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = int(other.getsockname()[1])
        assert _free_port("127.0.0.1", port) != port
        with _socket_near("127.0.0.1", port) as sock:
            assert sock.getsockname()[1] != port
        with pytest.raises(PortInUse) as refused:
            listening_socket("127.0.0.1", port)
        assert refused.value.port == port
