"""Server settings, declared once (:func:`dingbridge.setting_fields.setting`: type, default,
help, environment variable; the CLI options are generated from them).

Values come from, in order: command-line options, environment variables
(``DINGBRIDGE_<NAME>``), the defaults below. :meth:`Settings.validate` returns every problem at
once so ``serve`` and ``doctor`` can list them all.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dingbridge.setting_fields import declared, environment, find, merge, setting

ENV_PREFIX = "DINGBRIDGE_"
SECRET_KEY_FILE = "secret.key"
DEFAULT_JSAPI_URL = "https://g.alicdn.com/dingding/dingtalk-jsapi/3.1.0/dingtalk.open.js"
LANGUAGES = ("zh_CN", "en")


@dataclass(frozen=True)
class Settings:
    host: str = setting("127.0.0.1", "Address to listen on.")
    port: int = setting(8000, "Port to listen on.")
    data_dir: Path = setting(  # noqa: RUF009 (Path is immutable)
        Path("./data"), "Data folder: SQLite database, secret key, uploads.", metavar="DIR"
    )
    database_url: str | None = setting(
        None,
        "Database URL: sqlite:///path/to.db or postgresql://user@host/db "
        "(default: dingbridge.db in the data folder).",
        metavar="URL",
    )
    kv_url: str | None = setting(
        None,
        "Redis URL for sessions, codes, caches and rate limits shared by several instances "
        "(default: in-process).",
        metavar="URL",
    )
    external_url: str | None = setting(
        None,
        "The URL users reach this server at, e.g. https://apps.example.com "
        "(used for the addresses pasted into DingTalk; default: taken from each request).",
        metavar="URL",
    )
    secret_key: str | None = setting(
        None,
        "Key for encrypting AppSecrets and signing tokens (default: generated into "
        "<data folder>/secret.key at first start).",
        cli=False,
    )
    dingtalk_api: str = setting(
        "https://api.dingtalk.com", "DingTalk new-style API host.", metavar="URL"
    )
    dingtalk_oapi: str = setting(
        "https://oapi.dingtalk.com", "DingTalk old-style API host.", metavar="URL"
    )
    dingtalk_login: str = setting(
        "https://login.dingtalk.com", "DingTalk OAuth login page host.", metavar="URL"
    )
    jsapi_url: str = setting(
        DEFAULT_JSAPI_URL, "URL of DingTalk's JSAPI script (dingtalk.open.js).", metavar="URL"
    )
    development: bool = setting(
        False,
        "Development mode: enables the console SMS sender and developer pages.",
        flag="--development/--production",
    )
    sms_config: Path | None = setting(  # noqa: RUF009 (None default)
        None,
        "JSON or YAML file with the SMS sender settings for verification codes (docs/sms.md); "
        "default: the console sender in development mode, none otherwise.",
        cli=False,
    )
    forwarder: bool = setting(
        False,
        "Also serve the DingTalk API forwarder routes (/api-dingtalk-com/, /oapi-dingtalk-com/), "
        "so one deployment forwards for others.",
    )
    forwarder_source_address: str | None = setting(
        None,
        "With --forwarder: the local IP the forwarded calls leave from (default: the system's "
        "choice).",
        metavar="IP",
    )
    forwarder_caller_token: str | None = setting(
        None,
        "With --forwarder: the X-Dingbridge-Token callers of this server's forwarder must send "
        "(default: none required). Environment only.",
        cli=False,
        env_aliases=("DINGBRIDGE_FORWARDER_TOKEN",),
    )
    forwarder_allow: str | None = setting(
        None,
        "With --forwarder: comma-separated CIDRs of the callers allowed (default: everyone).",
        metavar="CIDR,...",
    )
    forward_address_token: str | None = setting(
        None,
        "The X-Dingbridge-Token this server sends to a token-protected `dingbridge forward` "
        "named in a space's 钉钉API转发地址 (forward address). Environment only.",
        cli=False,
        env_aliases=("DINGBRIDGE_FORWARD_TOKEN",),
    )
    language: str = setting("zh_CN", "Default language of the pages: zh_CN or en.")
    timezone: str | None = setting(
        None,
        "IANA time zone the console shows times in, e.g. Asia/Shanghai (default: the "
        "server's local time zone).",
    )
    admin_session_idle: int = setting(7200, "Admin console session idle timeout, seconds.")
    admin_session_absolute: int = setting(43200, "Admin console session lifetime, seconds.")
    session_idle: int = setting(8 * 3600, "Member session idle timeout, seconds.")
    session_absolute: int = setting(7 * 86400, "Member session lifetime, seconds.")
    migrate_on_start: bool = setting(True, "Apply database migrations when the server starts.")
    log_level: str = setting("INFO", "Log level: DEBUG, INFO, WARNING or ERROR.")
    event_streams: bool = setting(
        True,
        "Hold the DingTalk Stream-mode connection of every space whose events come by Stream "
        "(with several instances, one holds each app's stream; the others stand by).",
    )
    trusted_proxies: str = setting(
        "127.0.0.1",
        "Comma-separated addresses or CIDRs of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (client address, https); * trusts every peer.",
        metavar="IP,...",
    )
    dingtalk_qps: int = setting(
        20,
        "DingTalk calls per second per app per API, shared by every instance on the same "
        "kv_url (DingTalk answers 90018 above 20); calls past it wait for their turn.",
    )
    dingtalk_egress_limit: int = setting(
        5000,
        "DingTalk calls per 20 s from one egress address, shared by every instance (DingTalk "
        "blocks an address for 5 minutes at 10,000).",
    )
    dingtalk_max_wait: float = setting(
        8.0,
        "Seconds a DingTalk call may wait for its turn (and, separately, for retries after a "
        "90018) before the user gets an error.",
    )
    directory_sync_hour: int = setting(
        3,
        "Hour of the day (0-23, server time) of the nightly directory catch-up sync of spaces "
        "that receive DingTalk events; -1 turns it off.",
    )

    # ---------------------------------------------------------------- loading
    @classmethod
    def load(
        cls, options: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Build settings from options (``None`` values ignored) > environment > defaults.

        Raises :class:`SettingsError` listing every environment value that cannot be parsed.
        """
        options = options or {}
        environ = os.environ if environ is None else environ
        unknown = set(options) - {item.name for item in declared(cls)}
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        values, problems = merge(
            cls, [environment(cls, ENV_PREFIX, environ), ("--{name}", dict(options))]
        )
        if problems:
            raise SettingsError(problems)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    # ---------------------------------------------------------------- derived
    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'dingbridge.db').as_posix()}"

    @property
    def tzinfo(self) -> tzinfo:
        """The zone times are shown in: ``timezone``, else the server's local zone."""
        if self.timezone:
            return ZoneInfo(self.timezone)
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        return local

    @property
    def trusted_proxy_list(self) -> list[str]:
        """``trusted_proxies`` as uvicorn's ``forwarded_allow_ips``."""
        return [item.strip() for item in self.trusted_proxies.split(",") if item.strip()]

    @property
    def secure_cookies(self) -> bool:
        return bool(self.external_url) and urlsplit(self.external_url or "").scheme == "https"

    # ---------------------------------------------------------------- validation
    def validate(self) -> list[str]:
        """Every problem with these settings, each naming the setting; empty when all is well."""
        problems: list[str] = []
        if not 0 <= self.port <= 65535:
            problems.append(f"port: {self.port} is not between 0 and 65535")
        from dingbridge.storage.database_check import url_problem

        database_problem = url_problem(self.effective_database_url)
        if database_problem is not None:
            problems.append(f"database_url: {database_problem}")
        if self.kv_url is not None and urlsplit(self.kv_url).scheme not in ("redis", "rediss"):
            problems.append("kv_url: must be a redis:// or rediss:// URL")
        for name in (
            "external_url",
            "dingtalk_api",
            "dingtalk_oapi",
            "dingtalk_login",
            "jsapi_url",
        ):
            value = getattr(self, name)
            if value is None:
                continue
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                problems.append(f"{name}: {value!r} is not an http:// or https:// URL")
            elif name == "external_url" and (parts.query or parts.fragment):
                problems.append(f"{name}: must not contain a query or fragment")
        if self.language not in LANGUAGES:
            problems.append(f"language: {self.language!r} is not one of {', '.join(LANGUAGES)}")
        for name in (
            "admin_session_idle",
            "admin_session_absolute",
            "session_idle",
            "session_absolute",
        ):
            if getattr(self, name) <= 0:
                problems.append(f"{name}: must be a positive number of seconds")
        if not -1 <= self.directory_sync_hour <= 23:
            problems.append("directory_sync_hour: must be an hour 0-23, or -1 for never")
        if self.admin_session_idle > self.admin_session_absolute:
            problems.append("admin_session_idle: longer than admin_session_absolute")
        if self.session_idle > self.session_absolute:
            problems.append("session_idle: longer than session_absolute")
        if self.secret_key is not None and len(self.secret_key) < 32:
            problems.append("secret_key: must be at least 32 characters long")
        if self.sms_config is not None and not self.sms_config.is_file():
            problems.append(f"sms_config: {self.sms_config} is not a readable file")
        if self.forwarder_source_address is not None:
            try:
                ipaddress.ip_address(self.forwarder_source_address)
            except ValueError:
                problems.append(
                    f"forwarder_source_address: {self.forwarder_source_address!r} is not an IP "
                    "address"
                )
        for cidr in (self.forwarder_allow or "").split(","):
            if not cidr.strip():
                continue
            try:
                ipaddress.ip_network(cidr.strip(), strict=False)
            except ValueError:
                problems.append(
                    f"forwarder_allow: {cidr.strip()!r} is not a CIDR (e.g. 10.0.0.0/8)"
                )
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                problems.append(
                    f"timezone: {self.timezone!r} is not an IANA time zone name "
                    "(e.g. Asia/Shanghai, UTC)"
                )
        for cidr in self.trusted_proxies.split(","):
            if cidr.strip() in ("", "*"):
                continue
            try:
                ipaddress.ip_network(cidr.strip(), strict=False)
            except ValueError:
                problems.append(
                    f"trusted_proxies: {cidr.strip()!r} is not an address or CIDR "
                    "(e.g. 127.0.0.1, 10.0.0.0/8, or *)"
                )
        if self.dingtalk_qps < 1:
            problems.append("dingtalk_qps: must be at least 1")
        if self.dingtalk_egress_limit < 20:
            problems.append("dingtalk_egress_limit: must be at least 20")
        if not self.dingtalk_max_wait > 0:
            problems.append("dingtalk_max_wait: must be a positive number of seconds")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            problems.append(f"log_level: {self.log_level!r} is not DEBUG, INFO, WARNING or ERROR")
        return problems


class SettingsError(ValueError):
    """Settings that cannot be used; ``problems`` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def field_help(name: str) -> str:
    """The help text of a setting, for CLI options."""
    return f"{find(Settings, name).spec.help} (env: {env_name(name)})"


# -------------------------------------------------------------------- secret keys
def secret_keys(settings: Settings, *, create: bool = True) -> list[str]:
    """The secret keys, current first, then older ones still accepted for decryption.

    From ``DINGBRIDGE_SECRET_KEY`` when set, else ``<data_dir>/secret.key`` (one key per line),
    generated there on first use.
    """
    if settings.secret_key:
        older = os.environ.get(ENV_PREFIX + "OLD_SECRET_KEYS", "")
        return [settings.secret_key, *[k for k in older.split(",") if k.strip()]]
    path = settings.data_dir / SECRET_KEY_FILE
    if path.exists():
        keys = [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
        if keys:
            return keys
    if not create:
        raise SettingsError([f"secret_key: {path} does not exist"])
    write_secret_keys(settings, [secrets.token_urlsafe(32)])
    return secret_keys(settings, create=False)


def write_secret_keys(settings: Settings, keys: list[str]) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / SECRET_KEY_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(keys) + "\n", "utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)
