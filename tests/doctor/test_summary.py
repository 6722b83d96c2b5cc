"""One verdict for a run of checks, shared by the doctor's report and the console's 测试连接:
a warning is never "all good"."""

from __future__ import annotations

import io
import json

from rich.console import Console

from dingbridge.doctor.report import print_reports
from dingbridge.doctor.results import CheckResult, Message, Status, sentences, summary
from dingbridge.doctor.space_checks import SpaceReport


def _report(*statuses: Status) -> SpaceReport:
    note = Message("Check again later.")
    results = [
        CheckResult(check_id, status, cause=None if status is Status.PASS else note)
        for check_id, status in zip(("config", "network", "credentials"), statuses, strict=False)
    ]
    return SpaceReport(10001, "销售部", results)


def _printed(report: SpaceReport, language: str) -> str:
    out = io.StringIO()
    print_reports([report], Console(file=out, width=80, highlight=False), language)
    return out.getvalue()


def test_a_warning_is_not_all_good() -> None:
    report = _report(Status.PASS, Status.WARN, Status.WARN)
    zh = _printed(report, "zh_CN")
    assert "应用空间 10001 销售部: 通过，有 2 条提醒。" in zh and "全部通过" not in zh
    en = _printed(report, "en")
    assert "App space 10001 销售部: Passed, with 2 warnings." in en and "all good" not in en


def test_the_verdicts() -> None:
    assert summary(["pass", "pass"], "zh_CN") == "所有检查都已通过。"
    assert summary(["pass", "warn"], "en") == "Passed, with 1 warning."
    assert summary(["warn", "fail", "fail"], "zh_CN") == "有 2 项未通过。"
    assert summary([Status.FAIL], "en") == "1 check failed."


def test_the_console_shows_the_same_verdict() -> None:
    # The console page renders summary() over the stored run's statuses.
    stored = json.loads(
        json.dumps([r.as_dict() for r in _report(Status.PASS, Status.WARN).results])
    )
    assert summary((c["status"] for c in stored), "zh_CN") == "通过，有 1 条提醒。"


def test_the_report_keeps_its_indentation_when_wrapped_at_80_columns() -> None:
    seen = Message(
        "DingTalk saw this server's calls come from IP %(ip)s, which is not in the app's "
        "服务器出口IP list.",
        ip="127.0.0.1",
    )
    long = sentences(seen, seen, seen)
    report = SpaceReport(
        10001,
        "销售部",
        [
            CheckResult("config", Status.PASS),
            CheckResult("ip_whitelist", Status.FAIL, cause=long, fix=long, detail="errcode " * 20),
        ],
    )
    for language in ("zh_CN", "en"):
        lines = [line for line in _printed(report, language).splitlines() if line.strip()]
        assert len(lines) > 8  # the long texts did wrap
        head, *body = lines
        assert head.startswith(("应用空间", "App space"))
        assert all(line.startswith("  ") for line in body), body
        cause_at = next(
            i for i, line in enumerate(body) if line.strip().startswith(("原因", "Cause"))
        )
        label_width = body[cause_at].index(":") + 2
        assert body[cause_at + 1].startswith(" " * label_width)  # continuation under the text
