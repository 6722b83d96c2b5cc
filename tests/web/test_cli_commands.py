"""The headless-setup commands, run as an admin would run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dingbridge.storage.migrate import head_revision


def run(
    args: list[str], data_dir: Path, stdin: str = "", extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINGBRIDGE_")}
    env["DINGBRIDGE_DATA_DIR"] = str(data_dir)
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "dingbridge", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.mark.slow
def test_headless_setup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert f"revision {head_revision()}" in run(["db", "upgrade"], data).stdout
    created = run(
        ["admin", "create", "--username", "ops", "--password-stdin"],
        data,
        stdin="long enough password\n",
    )
    assert created.returncode == 0, created.stderr
    short = run(
        ["admin", "create", "--username", "ops2", "--password-stdin"], data, stdin="short\n"
    )
    assert short.returncode == 1 and "password" in short.stderr
    assert run(["space", "create", "--name", "销售部"], data).stdout.strip() == "10001"
    assert run(["space", "create", "--name", "财务部"], data).stdout.strip() == "10002"
    configured = run(
        [
            "space",
            "dingtalk",
            "10001",
            "--corp-name",
            "示例科技有限公司",
            "--corp-id",
            "ding5f2a7c31e08b4d96",
            "--agent-id",
            "3001001",
            "--app-key",
            "dingfullaccess0001ab",
            "--app-secret-stdin",
            "--api-version",
            "v2",
            "--forward-url",
            "http://127.0.0.2:888/api-dingtalk-com/",
            "--enable",
        ],
        data,
        stdin="sim-secret-full-0001\n",
    )
    assert configured.returncode == 0, configured.stderr
    bad = run(
        ["space", "dingtalk", "10002", "--corp-id", "nope", "--agent-id", "x1", "--enable"], data
    )
    assert bad.returncode == 1 and "corp_id" in bad.stderr and "agent_id" in bad.stderr
    csv_file = tmp_path / "members.csv"
    csv_file.write_bytes("姓名,手机号\n张伟,13800000001\n李娜,138\n".encode("gbk"))
    failed = run(["member", "import", "10001", str(csv_file)], data)
    assert failed.returncode == 1 and "没有导入任何内容" in failed.stderr
    assert "第 3 行：" in failed.stderr and "line 3" not in failed.stderr  # zh_CN by default
    english = run(
        ["member", "import", "10001", str(csv_file)],
        data,
        extra_env={"DINGBRIDGE_LANGUAGE": "en"},
    )
    assert "Nothing was imported" in english.stderr and "line 3:" in english.stderr
    csv_file.write_bytes("姓名,手机号\n张伟,13800000001\n李娜,13800000002\n".encode("gbk"))
    imported = run(["member", "import", "10001", str(csv_file)], data)
    assert "2 added" in imported.stdout
    listing = run(["space", "list"], data).stdout.splitlines()
    assert listing[0].startswith("10001\t2 members\tdingtalk on\tenabled\t销售部")
    assert listing[1].startswith("10002\t0 members\tdingtalk off")
    db = (data / "dingbridge.db").read_bytes()
    assert b"sim-secret-full-0001" not in db
    rotated = run(["admin", "rotate-key"], data)
    assert "re-encrypted 1" in rotated.stdout
    assert len((data / "secret.key").read_text().split()) == 2


def test_serve_lists_every_settings_problem(tmp_path: Path) -> None:
    result = run(
        ["serve", "--port", "70000", "--external-url", "nope"],
        tmp_path,
        extra_env={"DINGBRIDGE_LANGUAGE": "fr"},
    )
    assert result.returncode == 2
    for name in ("port", "external_url", "language"):
        assert f"- {name}:" in result.stderr
