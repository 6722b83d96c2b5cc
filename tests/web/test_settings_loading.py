"""Settings: options > environment > defaults; every problem listed at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from dingbridge.settings import Settings, SettingsError, field_help, secret_keys


def test_options_beat_environment_beat_defaults() -> None:
    env = {"DINGBRIDGE_PORT": "9000", "DINGBRIDGE_HOST": "0.0.0.0", "DINGBRIDGE_DEVELOPMENT": "yes"}
    settings = Settings.load({"port": 9100, "host": None}, env)
    assert settings.port == 9100
    assert settings.host == "0.0.0.0"
    assert settings.development is True
    assert settings.language == "zh_CN"


def test_database_url_defaults_into_the_data_folder(tmp_path: Path) -> None:
    settings = Settings.load({"data_dir": tmp_path}, {})
    assert settings.effective_database_url == f"sqlite:///{tmp_path.as_posix()}/dingbridge.db"


def test_every_unparsable_environment_value_reported() -> None:
    with pytest.raises(SettingsError) as failed:
        Settings.load({}, {"DINGBRIDGE_PORT": "eighty", "DINGBRIDGE_DEVELOPMENT": "maybe"})
    assert len(failed.value.problems) == 2


def test_validate_lists_every_problem() -> None:
    settings = Settings(
        port=70000,
        database_url="mysql://x",
        kv_url="memcached://x",
        external_url="apps.example.com",
        dingtalk_api="ftp://api",
        language="fr",
        session_idle=-1,
        secret_key="short",
    )
    problems = settings.validate()
    names = {p.split(":", 1)[0] for p in problems}
    assert names >= {
        "port",
        "database_url",
        "kv_url",
        "external_url",
        "dingtalk_api",
        "language",
        "session_idle",
        "secret_key",
    }
    assert Settings().validate() == []


def test_secure_cookies_only_behind_https() -> None:
    assert Settings(external_url="https://a.example").secure_cookies
    assert not Settings(external_url="http://a.example").secure_cookies
    assert not Settings().secure_cookies


def test_secret_key_generated_once_and_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = secret_keys(settings)
    assert secret_keys(settings) == first and len(first[0]) >= 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
    assert secret_keys(Settings(data_dir=tmp_path, secret_key="e" * 40)) == ["e" * 40]


def test_help_text_names_the_environment_variable() -> None:
    assert "DINGBRIDGE_DATA_DIR" in field_help("data_dir")


def test_timezone_is_an_iana_name_defaulting_to_the_local_zone() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    assert Settings.load({}, {"DINGBRIDGE_TIMEZONE": "Asia/Shanghai"}).tzinfo == ZoneInfo(
        "Asia/Shanghai"
    )
    assert Settings().tzinfo.utcoffset(datetime.now()) == datetime.now().astimezone().utcoffset()
    for bad in ("Mars/Olympus", "../etc/passwd", "not a zone"):
        problems = Settings(timezone=bad).validate()
        assert [p for p in problems if p.startswith("timezone:") and bad in p], bad


def test_trusted_proxies_and_the_dingtalk_budget_are_checked_and_reach_uvicorn() -> None:
    settings = Settings.load(
        {},
        {
            "DINGBRIDGE_TRUSTED_PROXIES": "10.0.0.5, 192.168.0.0/16",
            "DINGBRIDGE_DINGTALK_QPS": "15",
            "DINGBRIDGE_DINGTALK_MAX_WAIT": "2.5",
        },
    )
    assert settings.trusted_proxy_list == ["10.0.0.5", "192.168.0.0/16"]
    assert (settings.dingtalk_qps, settings.dingtalk_max_wait) == (15, 2.5)
    assert Settings().trusted_proxy_list == ["127.0.0.1"]  # nginx on the same host
    assert Settings(trusted_proxies="*").validate() == []
    problems = Settings(
        trusted_proxies="10.0.0.5,nginx.internal", dingtalk_qps=0, dingtalk_max_wait=0
    ).validate()
    assert any("trusted_proxies" in p and "nginx.internal" in p for p in problems)
    assert any(p.startswith("dingtalk_qps") for p in problems)
    assert any(p.startswith("dingtalk_max_wait") for p in problems)
