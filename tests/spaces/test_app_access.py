"""Who may use an app, and client secrets (dingbridge.spaces.app_access)."""

from __future__ import annotations

import pytest

from dingbridge.spaces.app_access import (
    client_secret_matches,
    hash_client_secret,
    may_use,
    new_client_id,
    new_client_secret,
)


@pytest.mark.parametrize(
    ("access", "member_id", "member_departments", "allowed"),
    [
        ("all", 7, set(), True),
        ("departments", 7, {3}, True),
        ("departments", 7, {4}, False),
        ("departments", 7, set(), False),
        ("members", 7, set(), True),
        ("members", 8, {3}, False),
        ("nobody-knows", 7, {3}, False),
    ],
)
def test_access_rules(
    access: str, member_id: int, member_departments: set[int], allowed: bool
) -> None:
    assert (
        may_use(
            access,
            granted_departments={3},
            granted_members={7},
            member_id=member_id,
            member_departments=member_departments,
        )
        is allowed
    )


def test_client_secrets_are_checked_against_their_hash_only() -> None:
    secret = new_client_secret()
    stored = hash_client_secret(secret)
    assert secret not in stored
    assert client_secret_matches(stored, secret)
    assert not client_secret_matches(stored, secret + "x")
    assert not client_secret_matches(None, secret)  # a public client has no secret
    assert new_client_id() != new_client_id()
