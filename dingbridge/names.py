"""Names that admins type (of spaces, API tokens): spaces collapsed, required, bounded."""

from __future__ import annotations

from dingbridge.errors import ValidationFailed


def clean_name(name: str, max_length: int, *, field: str = "name") -> str:
    """``name`` with runs of white space made one space; :class:`ValidationFailed` on
    ``field`` when it is empty or longer than ``max_length``."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationFailed({field: "The name is required."})
    if len(cleaned) > max_length:
        raise ValidationFailed({field: f"The name is longer than {max_length} characters."})
    return cleaned
