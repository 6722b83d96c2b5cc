"""A small HTTP(S) upstream for forwarder tests: records every request (raw head, headers, body,
peer, SNI), counts connections, and answers with exactly the bytes a handler returns."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httptools
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class RecordedRequest:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes  # kept whole up to KEEP_BODY bytes, else empty (see body_size/body_sha256)
    body_size: int
    body_sha256: str
    peer: str
    connection_id: int
    sni: str | None

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def header_names(self) -> list[str]:
        return [key.lower() for key, _ in self.headers]


@dataclass
class Reply:
    """A response written byte for byte: status line, headers as given, then the body."""

    status: int = 200
    reason: str = "OK"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunks: AsyncIterator[bytes] | None = None  # chunked body when given
    delay: float = 0.0
    close: bool = False  # close the connection after replying
    hang: bool = False  # never reply

    def raw_head(self) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {self.reason}"]
        lines += [f"{k}: {v}" for k, v in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# id(SSLObject) -> the server name the client sent (SNI), filled by the context's sni_callback.
SNI_SEEN: dict[int, str | None] = {}


def _record_sni(ssl_object: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
    SNI_SEEN[id(ssl_object)] = name


Handler = Callable[[RecordedRequest], Awaitable[Reply]]


def unused_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound to find it, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def json_reply(body: bytes, status: int = 200, reason: str = "OK") -> Reply:
    return Reply(
        status,
        reason,
        [("Content-Type", "application/json;charset=UTF-8"), ("Content-Length", str(len(body)))],
        body,
    )


async def echo_handler(request: RecordedRequest) -> Reply:
    return json_reply(b'{"errcode":0,"errmsg":"ok"}')


class FakeUpstream:
    def __init__(self, handler: Handler = echo_handler, ssl_context: ssl.SSLContext | None = None):
        self.handler = handler
        self.ssl_context = ssl_context
        self.requests: list[RecordedRequest] = []
        self.connections = 0
        self.server: asyncio.Server | None = None
        self.port = 0
        self._sni: dict[int, str | None] = {}
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_context else "http"

    def url(self, host: str = "127.0.0.1", path: str = "") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    async def start(self, host: str = "127.0.0.1") -> FakeUpstream:
        self.server = await asyncio.start_server(self._serve, host, 0, ssl=self.ssl_context)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            if self._tasks:
                _done, pending = await asyncio.wait(self._tasks, timeout=1)
                for task in pending:
                    task.cancel()
                if pending:
                    await asyncio.wait(pending, timeout=1)
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn_id = self.connections
        self._writers.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        ssl_object = writer.get_extra_info("ssl_object")
        sni = SNI_SEEN.get(id(ssl_object)) if ssl_object is not None else None
        peer = writer.get_extra_info("peername")[0]
        try:
            while True:
                request = await _read_request(reader, peer, conn_id, sni)
                if request is None:
                    return
                self.requests.append(request)
                reply = await self.handler(request)
                if reply.hang:
                    await asyncio.sleep(3600)
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                writer.write(reply.raw_head())
                if reply.chunks is not None:
                    async for chunk in reply.chunks:
                        writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                        await writer.drain()
                    writer.write(b"0\r\n\r\n")
                else:
                    writer.write(reply.body)
                await writer.drain()
                if reply.close:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            return
        except asyncio.CancelledError:
            return  # shutting down (a Python 3.11 stream callback logs cancelled handlers)
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.close()


KEEP_BODY = 1024 * 1024


class _RequestCollector:
    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.size = 0
        self.digest = hashlib.sha256()
        self.done = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        self.digest.update(body)
        if self.size <= KEEP_BODY:
            self.body.append(body)
        else:
            self.body.clear()

    def on_message_complete(self) -> None:
        self.done = True


async def _read_request(
    reader: asyncio.StreamReader, peer: str, conn_id: int, sni: str | None
) -> RecordedRequest | None:
    collector = _RequestCollector()
    parser = httptools.HttpRequestParser(collector)
    while not collector.done:
        data = await reader.read(65536)
        if not data:
            return None
        parser.feed_data(data)
    return RecordedRequest(
        method=parser.get_method().decode(),
        target=collector.url.decode("latin-1"),
        headers=collector.headers,
        body=b"".join(collector.body),
        body_size=collector.size,
        body_sha256=collector.digest.hexdigest(),
        peer=peer,
        connection_id=conn_id,
        sni=sni,
    )


@dataclass
class LocalCA:
    ca_file: Path
    server_context: ssl.SSLContext


def make_local_ca(folder: Path, hostnames: tuple[str, ...] = ("localhost",)) -> LocalCA:
    """A throwaway CA and a server certificate for ``hostnames`` and 127.0.0.1/127.0.0.2."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dingbridge test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ("127.0.0.1", "127.0.0.2")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file = folder / "server.pem"
    key_file = folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = _record_sni
    return LocalCA(ca_file=ca_file, server_context=context)
