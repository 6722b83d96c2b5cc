"""Mobile numbers in one form: E.164 (``+8613800000001``); 11-digit Chinese numbers get +86."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().\u3000]")
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
_E164 = re.compile(r"\+[1-9]\d{6,14}")


class InvalidMobile(ValueError):
    pass


def normalize_mobile(raw: str) -> str:
    """The E.164 form of ``raw`` or :class:`InvalidMobile` saying why it is not a number.

    ``13800000001``, ``138 0000 0001``, ``+86 138-0000-0001``, ``8613800000001`` and
    ``008613800000001`` all give ``+8613800000001``; other E.164 numbers are kept as given.
    """
    value = _SEPARATORS.sub("", raw.strip()).replace("＋", "+")
    if not value:
        raise InvalidMobile("The mobile number is empty.")
    if value.startswith("00"):
        value = "+" + value[2:]
    if _CN_MOBILE.fullmatch(value):
        return "+86" + value
    if value.startswith("86") and _CN_MOBILE.fullmatch(value[2:]):
        return "+" + value
    if value.startswith("+86"):
        if _CN_MOBILE.fullmatch(value[3:]):
            return value
        raise InvalidMobile("Not a valid Chinese mobile number (+86 and 11 digits).")
    if _E164.fullmatch(value):
        return value
    raise InvalidMobile("Not a mobile number: 11 digits, or + country code and number.")


def display_mobile(e164: str) -> str:
    """How a stored number is shown: Chinese numbers without +86, others as stored."""
    if e164.startswith("+86") and _CN_MOBILE.fullmatch(e164[3:]):
        return e164[3:]
    return e164
