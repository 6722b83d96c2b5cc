"""Forwarder settings: declared once (type, default, help, environment variable), loaded from
flags, ``DINGBRIDGE_FORWARD_*`` environment variables and a TOML file, then validated.

Precedence: flag > environment variable > TOML file > default. :func:`validate` returns every
problem at once, as sentences an admin can act on.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dingbridge.setting_fields import declared, environment, merge, setting

ENV_PREFIX = "DINGBRIDGE_FORWARD_"
DEFAULT_OAPI = "https://oapi.dingtalk.com"
DEFAULT_API = "https://api.dingtalk.com"
TOKEN_HEADER = "X-Dingbridge-Token"


class SettingsError(ValueError):
    """Raised with every problem found in the forwarder configuration."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Upstream:
    """One configured upstream origin (``oapi`` or ``api``)."""

    name: str
    url: str
    scheme: str
    host: str
    port: int
    base_path: str  # "" or "/prefix" without trailing slash

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def host_header(self) -> str:
        default = 443 if self.tls else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"

    @classmethod
    def parse(cls, name: str, url: str) -> Upstream:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"{name} upstream {url!r} must start with https:// or http://")
        if not parts.hostname:
            raise ValueError(f"{name} upstream {url!r} has no host")
        if parts.username or parts.password:
            # Never echo the URL here: it carries a password.
            raise ValueError(f"{name} upstream must not carry a login (user:password@)")
        if parts.query or parts.fragment:
            raise ValueError(f"{name} upstream {url!r} must not carry a query or fragment")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise ValueError(f"{name} upstream {url!r} has a bad port") from exc
        return cls(
            name=name,
            url=url.strip(),
            scheme=parts.scheme,
            host=parts.hostname,
            port=port,
            base_path=parts.path.rstrip("/"),
        )


@dataclass(frozen=True, slots=True)
class ForwarderSettings:
    """Everything ``dingbridge forward`` can be told, each declared once with
    :func:`~dingbridge.setting_fields.setting` (help, ``DINGBRIDGE_FORWARD_<NAME>``, flag)."""

    listen: str = setting("0.0.0.0:888", "Address to listen on, HOST:PORT.", metavar="HOST:PORT")
    oapi: str = setting(DEFAULT_OAPI, "Upstream for /oapi-dingtalk-com/ and /.", metavar="URL")
    api: str = setting(DEFAULT_API, "Upstream for /api-dingtalk-com/.", metavar="URL")
    source_address: str | None = setting(
        None,
        "Local IP the forwarded calls leave from (the whitelisted one; default: the system's "
        "choice).",
        metavar="IP",
    )
    token: str | None = setting(
        None,
        f"Callers must send this value in {TOKEN_HEADER} (prefer --token-file: a flag shows in "
        "the process list).",
    )
    token_file: str | None = setting(
        None, "File holding the caller token (first line).", metavar="FILE"
    )
    allow: tuple[str, ...] = setting(
        (),
        "Peer CIDRs allowed to call (repeatable; default: everyone).",
        metavar="CIDR",
    )
    ca_file: str | None = setting(
        None,
        "CA bundle used to verify upstream TLS (default: the system store).",
        metavar="FILE",
    )
    workers: int = setting(1, "Worker processes (Linux: SO_REUSEPORT).")
    connect_timeout: float = setting(5.0, "Upstream connect+TLS seconds.", metavar="SECONDS")
    read_timeout: float = setting(30.0, "Seconds the upstream may stay silent.", metavar="SECONDS")
    write_timeout: float = setting(30.0, "Seconds a request write may stall.", metavar="SECONDS")
    pool_timeout: float = setting(5.0, "Seconds to wait for a pool slot.", metavar="SECONDS")
    pool_size: int = setting(128, "Max connections per upstream.")
    idle_timeout: float = setting(
        30.0, "Close idle upstream connections after this many seconds.", metavar="SECONDS"
    )
    client_timeout: float = setting(
        75.0, "Close idle client connections after this many seconds.", metavar="SECONDS"
    )
    max_body_bytes: int = setting(
        32 * 1024 * 1024, "Largest request body accepted (413 beyond).", metavar="BYTES"
    )
    server_names: tuple[str, ...] = setting(
        (),
        "A name of this forwarder accepted in absolute-form URLs (repeatable).",
        flag="--server-name",
        metavar="NAME",
    )
    access_log: str = setting(
        "-", "Access log: '-' (logging), a file path, or 'off'.", metavar="PATH"
    )
    health_cache_seconds: float = setting(
        10.0, "How long a /healthz upstream check result is reused.", metavar="SECONDS"
    )

    # -- derived values -------------------------------------------------------------------
    @property
    def listen_host(self) -> str:
        return _split_listen(self.listen)[0]

    @property
    def listen_port(self) -> int:
        return _split_listen(self.listen)[1]

    def upstreams(self) -> dict[str, Upstream]:
        return {"oapi": Upstream.parse("oapi", self.oapi), "api": Upstream.parse("api", self.api)}

    def caller_token(self) -> str | None:
        """The token callers must present, read from ``token`` or ``token_file``."""
        if self.token:
            return self.token
        if self.token_file:
            text = Path(self.token_file).read_text(encoding="utf-8").strip()
            return text.splitlines()[0].strip() if text else None
        return None

    def networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in self.allow)

    def describe(self) -> str:
        """Human summary printed at start: what is forwarded where, and who may call."""
        ups = self.upstreams()
        lines = [
            f"dingbridge forward listening on {self.listen}",
            f"  /oapi-dingtalk-com/*  -> {ups['oapi'].url}/*",
            f"  /api-dingtalk-com/*   -> {ups['api'].url}/*",
            f"  /*                    -> {ups['oapi'].url}/*",
            "  /healthz, /metrics    answered here, never forwarded",
            f"  outgoing source address: {self.source_address or 'system default'}",
            f"  upstream TLS verified with: {self.ca_file or 'system CA store'}",
            "  caller token: "
            + ("required" if (self.token or self.token_file) else "not required"),
            "  callers allowed from: " + (", ".join(self.allow) if self.allow else "anywhere"),
        ]
        return "\n".join(lines)


def _split_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.strip().rpartition(":")
    if not sep:
        raise ValueError(f"listen address {listen!r} must be HOST:PORT")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


def setting_names() -> list[str]:
    return [item.name for item in declared(ForwarderSettings)]


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
) -> ForwarderSettings:
    """Merge defaults < TOML file < environment < flags (``None`` flag values are unset).

    The TOML file may hold the keys at top level or under ``[forward]``. Raises
    :class:`SettingsError` listing every problem (unknown keys, bad values).
    """
    env = os.environ if env is None else env
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if config_file is None:
        config_file = env.get(ENV_PREFIX + "CONFIG") or None
    if config_file is not None:
        try:
            with open(config_file, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError([f"cannot read config file {config_file}: {exc}"]) from exc
        section = data.get("forward", data)
        layers.append(
            (f"{config_file}: {{name}}", {k.replace("-", "_"): v for k, v in section.items()})
        )
    layers.append(environment(ForwarderSettings, ENV_PREFIX, env))
    layers.append(("--{name}", dict(flags or {})))
    values, problems = merge(ForwarderSettings, layers)
    if problems:
        raise SettingsError(problems)
    settings = replace(ForwarderSettings(), **values)
    problems = validate(settings)
    if problems:
        raise SettingsError(problems)
    return settings


def validate(settings: ForwarderSettings) -> list[str]:
    """Return every problem with ``settings`` (an empty list when it is usable)."""
    problems: list[str] = []
    try:
        _host, port = _split_listen(settings.listen)
        if not 0 <= port <= 65535:
            problems.append(f"listen port {port} is out of range")
    except ValueError:
        problems.append(f"listen = {settings.listen!r}: use HOST:PORT, e.g. 0.0.0.0:888")
    for name in ("oapi", "api"):
        try:
            Upstream.parse(name, getattr(settings, name))
        except ValueError as exc:
            problems.append(str(exc))
    if settings.source_address:
        try:
            ipaddress.ip_address(settings.source_address)
        except ValueError:
            problems.append(f"source_address {settings.source_address!r} is not an IP address")
    if settings.token and settings.token_file:
        problems.append("give either token or token_file, not both")
    if settings.token_file:
        try:
            if not settings.caller_token():
                problems.append(f"token file {settings.token_file} is empty")
        except OSError as exc:
            problems.append(f"cannot read token file {settings.token_file}: {exc.strerror}")
    for cidr in settings.allow:
        try:
            ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError:
            problems.append(f"allow entry {cidr!r} is not an IP network (e.g. 10.0.0.0/8)")
    if settings.ca_file and not Path(settings.ca_file).is_file():
        problems.append(f"ca_file {settings.ca_file} does not exist")
    if settings.workers < 1:
        problems.append("workers must be at least 1")
    for name in ("connect_timeout", "read_timeout", "write_timeout", "pool_timeout"):
        if getattr(settings, name) <= 0:
            problems.append(f"{name} must be positive")
    if settings.pool_size < 1:
        problems.append("pool_size must be at least 1")
    if settings.max_body_bytes < 0:
        problems.append("max_body_bytes must not be negative")
    return problems
