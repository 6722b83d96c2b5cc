"""Reading fields out of DingTalk answers; a missing required field is UnexpectedResponse."""

from __future__ import annotations

from typing import Any

from dingbridge.dingtalk.errors import UnexpectedResponse

__all__ = ["required_str", "result_dict"]


def result_dict(data: dict[str, Any]) -> dict[str, Any]:
    """The ``result`` object of a topapi answer ({} when absent)."""
    result = data.get("result")
    return result if isinstance(result, dict) else {}


def required_str(data: dict[str, Any], key: str, path: str) -> str:
    value = data.get(key)
    if value is None or value == "":
        raise UnexpectedResponse(f"DingTalk {path}: answer has no {key!r}", path=path)
    return str(value)
