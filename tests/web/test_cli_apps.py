"""``dingbridge app create|list|delete|rotate-secret`` as an admin runs them: the JSON shapes,
a public client without a secret, errors as one clear line with a non-zero exit and nothing
stored, the secret never in the audit log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dingbridge.cli import app as cli_app
from tests.web.test_cli_commands import run

runner = CliRunner()


def dingbridge(data: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(cli_app, [*args, "--data-dir", str(data)], env=env)
    return result.exit_code, result.stdout, result.stderr


def stored_bytes(data: Path) -> bytes:
    """Everything SQLite keeps in the data folder (database and write-ahead log)."""
    return b"".join(path.read_bytes() for path in sorted(data.glob("dingbridge.db*")))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    code, out, err = dingbridge(folder, "space", "create", "--name", "示例空间")
    assert (code, out.strip()) == (0, "10001"), err
    return folder


def test_create_json_prints_the_client_and_the_issuer_once(data: Path) -> None:
    code, out, err = dingbridge(
        data,
        "app",
        "create",
        "10001",
        "--name",
        "Grafana",
        "--url",
        "https://grafana.example.com/",
        "--redirect-uri",
        "https://grafana.example.com/login/generic_oauth",
        "--json",
    )
    assert code == 0, err
    created = json.loads(out)
    assert list(created) == ["id", "client_id", "client_secret", "issuer"]
    assert created["client_id"].startswith("dbc_")
    assert created["client_secret"].startswith("dbs_")
    assert created["issuer"] == "http://127.0.0.1:8000/10001"  # serve's default address

    code, out, _ = dingbridge(data, "app", "list", "10001", "--json")
    listed = json.loads(out)
    assert code == 0 and [a["name"] for a in listed] == ["Grafana"]
    assert listed[0]["kind"] == "oidc" and listed[0]["client_id"] == created["client_id"]
    assert created["client_secret"] not in out

    assert created["client_secret"].encode() not in stored_bytes(data)  # hashed; not audited
    rotated_code, rotated_out, _ = dingbridge(
        data, "app", "rotate-secret", "10001", created["client_id"], "--json"
    )
    rotated = json.loads(rotated_out)
    assert rotated_code == 0 and rotated["id"] == created["id"]
    assert rotated["client_secret"].startswith("dbs_")
    assert rotated["client_secret"] != created["client_secret"]


def test_the_issuer_follows_the_external_url(data: Path) -> None:
    code, out, err = dingbridge(
        data,
        "app",
        "create",
        "10001",
        "--name",
        "手机端",
        "--url",
        "https://m.example.com/",
        "--redirect-uri",
        "https://m.example.com/cb",
        "--public",
        "--json",
        env={"DINGBRIDGE_EXTERNAL_URL": "https://apps.example.com/"},
    )
    assert code == 0, err
    created = json.loads(out)
    assert list(created) == ["id", "client_id", "issuer"]  # a public client: no secret
    assert created["issuer"] == "https://apps.example.com/10001"
    code, _, err = dingbridge(data, "app", "rotate-secret", "10001", str(created["id"]))
    assert code == 1 and "public client has no secret" in err


def test_plain_output_a_link_app_and_delete(data: Path) -> None:
    code, out, err = dingbridge(
        data, "app", "create", "10001", "--name", "报销", "--url", "/expense", "--icon", "/e.png"
    )
    assert code == 0 and out.strip() == "app 1 created in space 10001", err
    code, out, _ = dingbridge(
        data,
        "app",
        "create",
        "10001",
        "--name",
        "Wiki",
        "--url",
        "https://wiki.example.com/",
        "--redirect-uri",
        "https://wiki.example.com/cb",
    )
    secret_line = next(line for line in out.splitlines() if line.startswith("client_secret:"))
    assert code == 0 and "client_id:" in out and "issuer:" in out
    code, out, _ = dingbridge(data, "app", "list", "10001")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].split("\t") == ["1", "link", "all", "-", "报销", "/expense"]
    assert secret_line.split()[-1] not in out
    code, out, _ = dingbridge(data, "app", "delete", "10001", "1")
    assert code == 0 and "报销" in out
    code, _, err = dingbridge(data, "app", "delete", "10001", "1")
    assert code == 1 and err.count("\n") == 1 and "中没有应用 '1'" in err
    code, out, _ = dingbridge(data, "app", "list", "10001", "--json")
    assert [a["name"] for a in json.loads(out)] == ["Wiki"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--url", "javascript:alert(1)"], ["url:"]),
        (["--url", "/x", "--redirect-uri", "https://a.example.com/cb#top"], ["fragment"]),
        (["--url", "/x", "--redirect-uri", "https://*.example.com/cb"], ["Wildcard"]),
        (["--url", "/x", "--public"], ["public_client:", "Only OIDC apps"]),
        (["--url", "/x", "--kind", "link", "--redirect-uri", "https://a/cb"], ["redirect_uris:"]),
        (["--url", "/x", "--kind", "oidc"], ["at least one redirect URI"]),
    ],
)
def test_bad_input_is_one_clear_line_and_stores_nothing(
    data: Path, args: list[str], words: list[str]
) -> None:
    code, out, err = dingbridge(data, "app", "create", "10001", "--name", "X", *args)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("dingbridge: ")
    assert all(word in err for word in words), err
    assert json.loads(dingbridge(data, "app", "list", "10001", "--json")[1]) == []


def test_an_unknown_kind_or_space_is_refused(data: Path) -> None:
    code, _, err = dingbridge(
        data, "app", "create", "10001", "--name", "X", "--url", "/x", "--kind", "saml"
    )
    assert code == 2 and "--kind must be one of link, oidc, forward-auth" in err
    code, _, err = dingbridge(data, "app", "create", "10002", "--name", "X", "--url", "/x")
    assert code == 1 and "应用空间 10002 不存在。" in err  # the settings' language: zh_CN
    code, _, err = dingbridge(data, "app", "list", "10002", env={"DINGBRIDGE_LANGUAGE": "en"})
    assert code == 1 and "Space 10002 does not exist." in err


@pytest.mark.slow
def test_as_a_process_the_secret_goes_to_stdout_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(["space", "create", "--name", "示例空间"], data).returncode == 0
    created = run(
        [
            "app",
            "create",
            "10001",
            "--name",
            "GitLab",
            "--url",
            "https://gitlab.example.com/",
            "--redirect-uri",
            "https://gitlab.example.com/users/auth/openid_connect/callback",
            "--kind",
            "oidc",
            "--json",
        ],
        data,
    )
    assert created.returncode == 0, created.stderr
    secret = json.loads(created.stdout)["client_secret"]
    assert secret not in created.stderr
    assert secret.encode() not in stored_bytes(data)
