from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_cli_reference_matches_the_cli() -> None:
    # docs/cli.md is generated from the commands' own --help; a changed option must be
    # regenerated (scripts/cli_reference.py) or this fails, so the reference cannot drift.
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cli_reference.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout + out.stderr
