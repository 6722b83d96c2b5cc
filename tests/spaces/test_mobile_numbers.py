from __future__ import annotations

import pytest

from dingbridge.spaces.mobile import InvalidMobile, display_mobile, normalize_mobile


@pytest.mark.parametrize(
    "raw",
    [
        "13800000001",
        "138 0000 0001",
        "138-0000-0001",
        "+86 138 0000 0001",
        "8613800000001",
        "008613800000001",
        "+8613800000001",
        "＋8613800000001",
        " 13800000001 ",
    ],
)
def test_chinese_mobiles_get_plus_86(raw: str) -> None:
    assert normalize_mobile(raw) == "+8613800000001"


def test_other_countries_kept_in_e164() -> None:
    assert normalize_mobile("+852 9123 4567") == "+85291234567"
    assert normalize_mobile("+1 (415) 555-0100") == "+14155550100"


@pytest.mark.parametrize(
    "raw", ["", "12345", "1380000000", "23800000001", "abc", "+86123", "138000000012"]
)
def test_bad_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidMobile):
        normalize_mobile(raw)


def test_display_drops_plus_86_only() -> None:
    assert display_mobile("+8613800000001") == "13800000001"
    assert display_mobile("+85291234567") == "+85291234567"
