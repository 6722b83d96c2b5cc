"""What users and admins read never names our internal design notes (the vendor setup guide is
"the vendor guide"; DingTalk's behaviour is DingTalk's, not a file of ours)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INTERNAL = re.compile(
    r"(?i:\bseed\b|seed's|种子|facts file|\bfacts §|dingtalk-api\.md|/work/shared)|\bSPEC\b"
)


def _read_by_people() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
    for suffix in ("*.py", "*.html", "*.po", "*.js", "*.css"):
        files += sorted((ROOT / "dingbridge").rglob(suffix))
    return files


def test_no_internal_words_in_the_package_or_the_docs() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _read_by_people()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if INTERNAL.search(line)
    ]
    assert found == [], "say 'the vendor guide' or name the setting instead"


def test_the_pattern_catches_what_it_is_for() -> None:
    for line in ("the seed's nginx", "种子文档", "see SPEC §3", "the facts file", "(facts §2.3)"):
        assert INTERNAL.search(line), line
    assert not INTERNAL.search("the vendor guide's nginx (port 888)")
