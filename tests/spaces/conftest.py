"""A migrated SQLite database for library-level tests of spaces, members and settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dingbridge.spaces.secret_box import SecretBox
from dingbridge.storage.db import Database
from dingbridge.storage.migrate import upgrade


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path / 'spaces.db'}"
    upgrade(url)
    database = Database(url)
    yield database
    await database.dispose()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(["k" * 40])
