"""The API's request and response bodies (pydantic), as the OpenAPI document shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_OFFSET = 10**12
"""The largest ``offset`` of a listing (past it the database's integers would overflow)."""


class Problem(BaseModel):
    error: str
    message: str
    problems: dict[str, str] | None = None


class SpaceOut(BaseModel):
    id: int
    name: str
    enabled: bool
    members: int
    dingtalk_enabled: bool
    url: str = Field(description="The space's address: 应用首页地址, PC端首页地址 and 重定向URL.")


class SpaceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200, examples=["销售部"])


class SpacePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    enabled: bool | None = None


class MemberOut(BaseModel):
    id: int
    name: str
    mobile: str = Field(description="E.164, e.g. +8613800000001")
    email: str | None
    role: str
    status: Literal["active", "disabled"] | str
    dingtalk_userid: str | None
    created_at: datetime
    updated_at: datetime


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(examples=["张伟"])
    mobile: str = Field(examples=["13800000001"], description="+86 assumed for 11 digits.")
    email: str = ""
    role: str = ""
    status: Literal["active", "disabled"] = "active"


class MemberPatch(BaseModel):
    """Only the fields given change; ``{"status": "disabled"}`` disables a member."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    mobile: str | None = None
    email: str | None = None
    role: str | None = None
    status: Literal["active", "disabled"] | None = None


class RowProblemOut(BaseModel):
    line: int
    column: str
    message: str


class CsvImportOut(BaseModel):
    ok: bool
    rows: int
    added: int
    updated: int
    unchanged: int
    problems: list[RowProblemOut]


class DingTalkOut(BaseModel):
    enabled: bool
    corp_name: str
    corp_id: str
    agent_id: str
    app_key: str
    app_secret_set: bool = Field(description="The AppSecret itself is never returned.")
    api_version: Literal["v2", "v1"] | str
    forward_url: str | None
    egress_ip_seen: str | None
    updated_at: datetime | None


class DingTalkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    corp_name: str = ""
    corp_id: str = ""
    agent_id: str = ""
    app_key: str = ""
    app_secret: str | None = Field(
        default=None, description="Write-only. Leave out (or null) to keep the stored one."
    )
    api_version: Literal["v2", "v1"] = "v2"
    forward_url: str = Field(default="", examples=["http://203.0.113.5:888/api-dingtalk-com/"])


class PermissionOut(BaseModel):
    code: str
    name: str


class SetupValuesOut(BaseModel):
    """What to paste into the DingTalk developer console (the vendor guide's step 2.2 ③④⑤)."""

    home_url: str
    pc_home_url: str
    redirect_url: str
    egress_ip: str | None = Field(description="Known after a test connection; null before.")
    permissions: list[PermissionOut]


class CheckOut(BaseModel):
    id: str
    title_zh: str
    title_en: str
    status: Literal["pass", "fail", "warn", "skip"] | str
    cause: dict[str, str] | None
    fix: dict[str, str] | None
    detail: str


class ConnectionTestOut(BaseModel):
    ok: bool
    egress_ip: str | None
    checks: list[CheckOut]


class DirectoryImportOut(BaseModel):
    status: Literal["running", "done", "failed"] | str
    started_at: str
    finished_at: str | None
    progress: dict[str, Any]
    error: str | None
    skipped: list[dict[str, str]]


class AuditOut(BaseModel):
    id: int
    time: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]


# -- apps (/api/v1/spaces/{id}/apps) --------------------------------------------------------------
AppKind = Literal["link", "oidc", "forward_auth"]
AppAccessRule = Literal["all", "departments", "members"]


class AppOut(BaseModel):
    """An app of the space; the client secret itself is never returned here."""

    id: int
    name: str
    url: str
    icon: str | None
    kind: AppKind | str
    access: AppAccessRule | str
    departments: list[int] = Field(description="Department ids (see …/departments).")
    members: list[int] = Field(description="Member ids.")
    client_id: str | None
    public_client: bool
    client_secret_set: bool = Field(description="Whether a confidential client has a secret.")
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    backchannel_logout_uri: str | None
    issuer: str | None = Field(description="The space's OIDC issuer, for OIDC apps.")
    created_at: datetime | None


class AppIn(BaseModel):
    """A new app. ``kind`` defaults to ``oidc`` when redirect URIs are given, else ``link``."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(examples=["Grafana"])
    url: str = Field(examples=["https://grafana.example.com/"])
    icon: str = ""
    kind: AppKind | None = None
    access: AppAccessRule = "all"
    departments: list[int] = Field(default_factory=list)
    members: list[int] = Field(default_factory=list)
    redirect_uris: list[str] = Field(
        default_factory=list, examples=[["https://grafana.example.com/login/generic_oauth"]]
    )
    post_logout_redirect_uris: list[str] = Field(default_factory=list)
    backchannel_logout_uri: str = ""
    public_client: bool = Field(default=False, description="No secret; PKCE required.")


class AppPatch(BaseModel):
    """Only the fields given change. Making an app a link or a forward-auth app drops its OIDC
    fields; making it a confidential OIDC client issues a secret: fetch it with rotate-secret."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    url: str | None = None
    icon: str | None = None
    kind: AppKind | None = None
    access: AppAccessRule | None = None
    departments: list[int] | None = None
    members: list[int] | None = None
    redirect_uris: list[str] | None = None
    post_logout_redirect_uris: list[str] | None = None
    backchannel_logout_uri: str | None = None
    public_client: bool | None = None


class AppCreatedOut(AppOut):
    client_secret: str | None = Field(
        description="Shown once, in this answer only; null for public clients and non-OIDC apps."
    )


class AppCredentialsOut(BaseModel):
    """The answer to creating an app or rotating its secret: the only place the secret shows."""

    id: int
    client_id: str | None
    client_secret: str | None = Field(
        default=None, description="Shown once; absent for public clients and non-OIDC apps."
    )
    issuer: str


class DepartmentOut(BaseModel):
    id: int
    dept_id: int = Field(description="DingTalk's department id (1 is the company).")
    name: str
    parent_id: int | None = Field(description="DingTalk's id of the parent department.")
