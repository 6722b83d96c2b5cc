"""Rendering doctor results: a terminal report (rich, zh-CN or English) and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text as RichText

from dingbridge.doctor.results import Status, summary
from dingbridge.doctor.space_checks import SpaceReport
from dingbridge.i18n import N_, translate

__all__ = ["print_reports", "reports_json"]

_MARKS = {
    Status.PASS: ("✓", "green"),
    Status.FAIL: ("✗", "bold red"),
    Status.WARN: ("!", "yellow"),
    Status.SKIP: ("–", "dim"),
}
_LABELS = {"cause": N_("Cause"), "fix": N_("Fix"), "space": N_("App space")}


def reports_json(reports: Sequence[SpaceReport], *, database: str | None = None) -> str:
    """Every field of every result, both languages; ``database``: the one looked at."""
    body: dict[str, object] = {"ok": not any(r.failed for r in reports)}
    if database is not None:
        body["database"] = database
    body["spaces"] = [r.as_dict() for r in reports]
    return json.dumps(body, ensure_ascii=False, indent=2)


def _labelled(label: str, body: str) -> Table:
    """``原因: …`` at five columns in, the body's wrapped lines lined up after the label."""
    grid = Table.grid()
    grid.add_column(width=5, no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("", RichText(label, style="bold"), RichText(body))
    return grid


def print_reports(reports: Sequence[SpaceReport], console: Console, language: str) -> None:
    labels = {key: translate(label, language) for key, label in _LABELS.items()}
    for report in reports:
        verdict = summary((result.status for result in report.results), language)
        name = f" {report.space_name}" if report.space_name else ""
        console.print(
            RichText(f"{labels['space']} {report.space_id}{name}: {verdict}", style="bold")
        )
        for number, result in enumerate(report.results, start=1):
            mark, style = _MARKS[result.status]
            line = RichText(f"{mark} ", style=style)
            line.append(f"{number}. {result.title(language)}")
            if result.status is Status.SKIP and result.cause:
                line.append(f"  ({result.cause.in_language(language)})", style="dim")
            # Padding, not leading spaces: a line wrapped by the terminal keeps the indent.
            console.print(Padding(line, (0, 0, 0, 2), expand=False))
            origin = result.data.get("in_client_origin")
            if result.status is Status.PASS and origin:  # the value DingTalk's console asks for
                paste = (
                    f"Paste into 安全设置 → 端内免登地址 (in-client sign-in address): {origin}"
                    if language.startswith("en")
                    else f"填写到 安全设置 → 端内免登地址：{origin}"
                )
                console.print(Padding(RichText(paste), (0, 0, 0, 5), expand=False))
            if result.status in (Status.FAIL, Status.WARN):
                for key, text in (("cause", result.cause), ("fix", result.fix)):
                    if text is None:
                        continue
                    label = f"{labels[key]}: "
                    console.print(_labelled(label, text.in_language(language)))
                if result.detail:
                    console.print(
                        Padding(RichText(result.detail, style="dim"), (0, 0, 0, 5), expand=False)
                    )
        console.print()
