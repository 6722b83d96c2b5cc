"""The shapes of a DingTalk app's identifiers, as the developer console shows them.

Used to catch a mistyped or misplaced value (an AppKey pasted into CorpId) before DingTalk is
asked: the console's settings form and the doctor share these.
"""

from __future__ import annotations

import re

CORP_ID = re.compile(r"ding[0-9A-Za-z]{6,60}")
"""企业ID (CorpId): ``ding`` then letters and digits."""
AGENT_ID = re.compile(r"[0-9]{1,20}")
"""AgentId: digits only."""
APP_KEY = re.compile(r"[0-9A-Za-z_\-]{4,64}")
"""AppKey (Client ID): letters, digits, ``_`` and ``-``."""


def is_corp_id(value: str) -> bool:
    return CORP_ID.fullmatch(value) is not None


def is_agent_id(value: str) -> bool:
    return AGENT_ID.fullmatch(value) is not None


def is_app_key(value: str) -> bool:
    return APP_KEY.fullmatch(value) is not None
