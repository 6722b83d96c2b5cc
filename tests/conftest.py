"""Shared fixtures. Area fixtures live in the conftest.py of each test folder."""

from __future__ import annotations

import os

import pytest


def env_url(name: str) -> str:
    """Return a service URL from the environment, or skip the test without it."""
    value = os.environ.get(name, "")
    if not value:
        pytest.skip(f"{name} is not set")
    return value


@pytest.fixture
def postgres_url() -> str:
    return env_url("DINGBRIDGE_TEST_POSTGRES_URL")


@pytest.fixture
def redis_url() -> str:
    return env_url("DINGBRIDGE_TEST_REDIS_URL")
