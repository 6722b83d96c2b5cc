"""The doctor and the DingTalk client write what admins read as catalog messages
(``Message``/``N_``, Chinese in dingbridge/i18n), not as inline (Chinese, English) pairs that
the catalogs, their test and translators never see."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import dingbridge
from dingbridge.doctor.config import DoctorConfig, check_config
from dingbridge.i18n import Message

PACKAGE = Path(dingbridge.__file__).parent
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z]+ [a-z]+ [a-z]+")


def _pairs(module: Path) -> list[str]:
    """Places where two string literals side by side are one text in Chinese and English."""
    found = []
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        items: list[ast.expr] = []
        if isinstance(node, ast.Call):
            items = list(node.args)
        elif isinstance(node, ast.Tuple):
            items = list(node.elts)
        texts = [
            item.value if isinstance(item, ast.Constant) and isinstance(item.value, str) else None
            for item in items
        ]
        for zh, en in itertools.pairwise(texts):
            if zh and en and CJK.search(zh) and ENGLISH.search(en) and not CJK.search(en[:3]):
                found.append(
                    f"{module.relative_to(PACKAGE)}:{getattr(node, 'lineno', 0)}: {en[:60]}"
                )
    return found


def test_no_inline_chinese_english_pairs_in_the_doctor_or_the_client() -> None:
    modules = sorted((PACKAGE / "doctor").glob("*.py")) + sorted(
        (PACKAGE / "dingtalk").rglob("*.py")
    )
    assert [pair for module in modules for pair in _pairs(module)] == []


def test_the_forward_address_problem_is_the_client_s_own_message_in_chinese() -> None:
    config = DoctorConfig(
        corp_id="ding5f2a7c31e08b4d96",
        agent_id="3001001",
        app_key="dingfullaccess0001ab",
        app_secret="secret",
        forward_url="http://203.0.113.5:888/api/",
    )
    result = check_config(config)
    assert isinstance(result.cause, Message)
    zh = result.cause.zh
    assert "钉钉API转发地址 http://203.0.113.5:888/api/ 不对：路径 '/api/' 必须以" in zh
    assert not ENGLISH.search(zh.replace("api-dingtalk-com", "").replace("oapi-dingtalk-com", ""))
    assert "does not end in" in result.cause.en
