"""The check runner is plain protocol code: importing it pulls in no web framework and no
database layer (those belong to dingbridge.doctor.space_checks and the commands)."""

from __future__ import annotations

import subprocess
import sys


def test_runner_imports_no_web_framework_or_database() -> None:
    code = (
        "import sys, dingbridge.doctor, dingbridge.doctor.runner;"
        "print(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'starlette', 'fastapi', 'sqlalchemy', 'alembic', 'jinja2'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
