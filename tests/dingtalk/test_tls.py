"""AiohttpTransport over TLS: an unknown CA is a TransportError(kind="tls"); ca_file fixes it."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dingbridge.dingtalk import AiohttpTransport, DingTalkClient, Endpoints, TransportError
from dingbridge.dingtalk.caller import RetryPolicy

BODY = b'{"accessToken":"tls-token","expireIn":7200}'
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


def self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    cert, key = self_signed(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")  # the JSON body is left unread
            writer.write(ANSWER)
            await writer.drain()
            await reader.read()  # until the client closes
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    yield f"https://127.0.0.1:{port}", cert
    server.close()


def make(base: str, transport: AiohttpTransport) -> DingTalkClient:
    return DingTalkClient(
        app_key="dingtlstest000000001",
        app_secret="tls-secret",
        endpoints=Endpoints.single_base(base),
        transport=transport,
        retry=RetryPolicy(max_attempts=1),
    )


async def test_unknown_ca_is_a_tls_transport_error(tls_server: tuple[str, Path]) -> None:
    base, _ = tls_server
    transport = AiohttpTransport()
    try:
        with pytest.raises(TransportError) as err:
            await make(base, transport).tokens.app_token()
    finally:
        await transport.aclose()
    assert err.value.kind == "tls"
    assert "TLS" in err.value.explanation and "certificates" in err.value.explanation_en


async def test_ca_file_makes_it_trusted(tls_server: tuple[str, Path]) -> None:
    base, cert = tls_server
    transport = AiohttpTransport(ca_file=str(cert))
    try:
        assert await make(base, transport).tokens.app_token() == "tls-token"
    finally:
        await transport.aclose()
