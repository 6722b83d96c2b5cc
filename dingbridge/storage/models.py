"""The tables. Changing one means adding an Alembic migration under ``migrations/versions``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

FIRST_SPACE_ID = 10001


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Admin(Base):
    __tablename__ = "admins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admins.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Space(Base):
    __tablename__ = "spaces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("space_id", "mobile"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    mobile: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), default="active")
    role: Mapped[str] = mapped_column(String(64), default="member")
    dingtalk_userid: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    """Why the member was disabled (e.g. "left the company in DingTalk")."""


class DingTalkSettingsRow(Base):
    __tablename__ = "dingtalk_settings"

    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    corp_name: Mapped[str] = mapped_column(String(200), default="")
    corp_id: Mapped[str] = mapped_column(String(64), default="")
    agent_id: Mapped[str] = mapped_column(String(32), default="")
    app_key: Mapped[str] = mapped_column(String(64), default="")
    app_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    api_version: Mapped[str] = mapped_column(String(4), default="v2")
    forward_url: Mapped[str | None] = mapped_column(String(500))
    egress_ip_seen: Mapped[str | None] = mapped_column(String(64))
    # How a DingTalk user seen for the first time becomes a member: sms, dingtalk_mobile or
    # auto_provision (dingbridge.signin.binding_flow).
    binding_policy: Mapped[str] = mapped_column(String(16), default="sms", server_default="sms")
    # How DingTalk's directory events reach this space: off, stream or http (callbacks signed
    # with callback_token and encrypted with the aes_key, stored encrypted).
    events_mode: Mapped[str] = mapped_column(String(8), default="off", server_default="off")
    callback_token: Mapped[str | None] = mapped_column(String(64))
    callback_aes_key_encrypted: Mapped[str | None] = mapped_column(Text)
    sync_guard_percent: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # DingTalk work notifications (off by default): to a user on a new binding; to the
    # space's admins (DingTalk userids, comma-separated) on a stopped sync or a dead stream.
    notify_binding: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    notify_admins: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    admin_userids: Mapped[str] = mapped_column(Text, default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Binding(Base):
    __tablename__ = "bindings"
    __table_args__ = (
        UniqueConstraint("space_id", "corp_id", "userid"),
        UniqueConstraint("member_id", "corp_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    corp_id: Mapped[str] = mapped_column(String(64))
    userid: Mapped[str] = mapped_column(String(64))
    unionid: Mapped[str | None] = mapped_column(String(64))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Department(Base):
    """A DingTalk department as a space knows it (from the directory import or DingTalk events).

    ``dept_id`` is DingTalk's id (1 is the company root); members belong to departments through
    :class:`MemberDepartment`, and departments decide who may use an app (:class:`AppAccess`).
    """

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("space_id", "dept_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    dept_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(BigInteger)
    """DingTalk's ``dept_id`` of the parent; ``None`` for the root."""


class MemberDepartment(Base):
    __tablename__ = "member_departments"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True, index=True
    )


APP_KINDS = ("link", "oidc", "forward_auth")
"""How an app receives the user: a plain link, an OpenID Connect client of the space, or an app
behind the forward-auth gate."""
APP_ACCESS = ("all", "departments", "members")
"""Who may use an app: every member, members of chosen departments, or chosen members."""


class SpaceApp(Base):
    """An app of a space. ``title`` is the app's name as members see it.

    OIDC apps carry a ``client_id`` (unique across spaces), the hash of their secret (``None``
    for public clients, which must use PKCE) and their registered URIs, each matched exactly.
    """

    __tablename__ = "space_apps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(1000))
    position: Mapped[int] = mapped_column(Integer, default=0)
    icon: Mapped[str | None] = mapped_column(String(1000))
    kind: Mapped[str] = mapped_column(String(16), default="link", server_default="link")
    access: Mapped[str] = mapped_column(String(16), default="all", server_default="all")
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(255))
    public_client: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow)


class AppAccess(Base):
    """One department or one member allowed to use an app whose ``access`` is not ``all``
    (exactly one of ``department_id`` and ``member_id`` is set)."""

    __tablename__ = "app_access"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("space_apps.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE")
    )
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OidcSigningKey(Base):
    """A space's ID-token signing key (a private JWK, encrypted with the secret box).

    The newest key without ``retired_at`` signs; retired keys stay in the JWKS until the tokens
    they signed have expired (:mod:`dingbridge.oidc.signing_keys`)."""

    __tablename__ = "oidc_signing_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    alg: Mapped[str] = mapped_column(String(8))
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OidcSubject(Base):
    """The ``sub`` an OpenID Connect app sees for a member: random, stable, unique."""

    __tablename__ = "oidc_subjects"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    sub: Mapped[str] = mapped_column(String(64), unique=True)


class OidcToken(Base):
    """An access token and its refresh token issued to an app for a member; only SHA-256 hashes
    are stored. ``family`` groups the tokens of one sign-in (a code and the refreshes that
    followed): a reused refresh token or code revokes the family."""

    __tablename__ = "oidc_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    app_id: Mapped[int] = mapped_column(ForeignKey("space_apps.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    family: Mapped[str] = mapped_column(String(64), index=True)
    sid: Mapped[str | None] = mapped_column(String(64), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(200))
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    auth_time: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[int] = mapped_column(BigInteger)
    expires_in: Mapped[int] = mapped_column(Integer)
    refresh_expires_at: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    revoked_reason: Mapped[str | None] = mapped_column(String(16))
