"""The doctor's input, :class:`DoctorConfig` (plain values and a transport, no database), and
check 1 (配置完整): every problem with the settings' shapes, at once.

The shape rules are the console's (``dingbridge.spaces.dingtalk_settings.validate_input``,
tested to agree); the forward address is parsed by the DingTalk client itself
(:meth:`Endpoints.from_forward_address`), so the doctor reports exactly what the client would
refuse, with its explanation of the missing prefix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dingbridge.dingtalk import Endpoints, ForwardAddressError, Transport
from dingbridge.dingtalk.identifiers import is_agent_id, is_app_key, is_corp_id
from dingbridge.doctor.results import CheckResult, Status, Text

__all__ = ["DoctorConfig", "check_config", "endpoints_for"]


@dataclass(frozen=True)
class DoctorConfig:
    """One space's DingTalk settings plus where the server sends DingTalk calls.

    ``dingtalk_api`` / ``dingtalk_oapi`` are the server's hosts (``--dingtalk-api`` ...), used
    when ``forward_url`` is blank. ``space_url`` is the address DingTalk opens (home page and
    redirect URL); ``None`` skips check 8. ``transport`` carries the DingTalk calls,
    ``site_transport`` the request to ``space_url`` (default: a transport of its own, never the
    DingTalk one, which may be an in-process simulator).
    """

    corp_id: str
    agent_id: str
    app_key: str
    app_secret: str = field(repr=False)
    api_version: str = "v2"
    forward_url: str | None = None
    forward_token: str | None = field(default=None, repr=False)
    """The caller token of a token-protected forwarder (the server's ``forward_address_token``)."""
    enabled: bool = True
    dingtalk_api: str = "https://api.dingtalk.com"
    dingtalk_oapi: str = "https://oapi.dingtalk.com"
    dingtalk_login: str = "https://login.dingtalk.com"
    space_url: str | None = None
    transport: Transport | None = field(default=None, repr=False, compare=False)
    site_transport: Transport | None = field(default=None, repr=False, compare=False)
    timeout: float = 8.0
    extra_problems: tuple[Text, ...] = ()
    """Problems found while loading the settings (e.g. an AppSecret that cannot be decrypted)."""

    @property
    def forwarded(self) -> bool:
        return bool(self.forward_url and self.forward_url.strip())


def endpoints_for(config: DoctorConfig) -> Endpoints:
    """Where the space's calls go (raises ForwardAddressError for a bad forward address)."""
    return Endpoints.for_app(
        forward_url=config.forward_url,
        api=config.dingtalk_api,
        oapi=config.dingtalk_oapi,
        login=config.dingtalk_login,
        forward_token=config.forward_token,
    )


_WHERE = Text(
    "（钉钉开发者后台 → 应用 → 凭证与基础信息）",
    "(DingTalk developer console → the app → 凭证与基础信息)",
)


def _problems(config: DoctorConfig) -> list[Text]:
    problems: list[Text] = list(config.extra_problems)
    corp_id, agent_id = config.corp_id.strip(), config.agent_id.strip()
    app_key, secret = config.app_key.strip(), config.app_secret.strip()
    if not corp_id:
        problems.append(
            Text(
                "未填写 企业ID (CorpId)：在开发者后台首页（不是应用页）复制。",
                "企业ID (CorpId) is empty: copy it from the developer console home page "
                "(not the app page).",
            )
        )
    elif not is_corp_id(corp_id):
        problems.append(
            Text(
                f"企业ID {corp_id!r} 格式不对：应以 ding 开头，后接字母和数字。",
                f"企业ID {corp_id!r} is malformed: it starts with 'ding' followed by letters "
                "and digits.",
            )
        )
    if not agent_id:
        problems.append(Text("未填写 AgentId", "AgentId is empty") + _WHERE)
    elif not is_agent_id(agent_id):
        problems.append(
            Text(f"AgentId {agent_id!r} 应为纯数字", f"AgentId {agent_id!r} must be digits only")
            + _WHERE
        )
    if not app_key:
        problems.append(Text("未填写 AppKey (Client ID)", "AppKey (Client ID) is empty") + _WHERE)
    elif not is_app_key(app_key):
        problems.append(
            Text(
                f"AppKey {app_key!r} 含有不允许的字符（只能是字母、数字、- 和 _）",
                f"AppKey {app_key!r} has characters other than letters, digits, '-' and '_'",
            )
            + _WHERE
        )
    if not secret:
        problems.append(
            Text("未设置 AppSecret (Client Secret)", "AppSecret (Client Secret) is not set")
            + _WHERE
        )
    elif any(c.isspace() for c in secret):
        problems.append(
            Text(
                "AppSecret 中有空格或换行：重新复制，不要带空白。",
                "The AppSecret contains spaces or line breaks: copy it again without blanks.",
            )
        )
    if config.api_version not in ("v1", "v2"):
        problems.append(
            Text(
                f"钉钉接口版本 {config.api_version!r} 无效：新应用选 V2，旧应用选 V1。",
                f"钉钉接口版本 {config.api_version!r} is invalid: V2 for new apps, V1 for legacy.",
            )
        )
    try:
        endpoints_for(config)
    except ForwardAddressError as exc:
        problems.append(_forward_problem((config.forward_url or "").strip(), str(exc)))
    return problems


def _forward_problem(address: str, message: str) -> Text:
    example = Text(
        "V2 应填写 http://转发服务器地址:888/api-dingtalk-com/"
        "（末尾的 /api-dingtalk-com/ 不能省略）。",
        "Write http://<forwarder>:888/api-dingtalk-com/ (the /api-dingtalk-com/ prefix is "
        "required).",
    )
    if "does not end in" in message:
        zh = "路径必须以 /api-dingtalk-com/ 或 /oapi-dingtalk-com/ 结尾（或是转发服务的根地址）"
    elif "must start with" in message:
        zh = "必须以 http:// 或 https:// 开头并写明主机"
    elif "query" in message:
        zh = "不能带查询参数（?…）或 #"
    else:
        zh = "格式不对"
    return Text(
        f"钉钉API转发地址 {address} 不对：{zh}。{example.zh}",
        f"The forward address (钉钉API转发地址) is wrong: {message.rstrip('.')}. {example.en}",
    )


def config_usable(config: DoctorConfig) -> bool:
    """Whether DingTalk can be called at all with these settings (key, secret, hosts)."""
    if not config.app_key.strip() or not config.app_secret.strip():
        return False
    if config.api_version not in ("v1", "v2"):
        return False
    try:
        endpoints_for(config)
    except ForwardAddressError:
        return False
    return True


def check_config(config: DoctorConfig) -> CheckResult:
    """Check 1, 配置完整."""
    problems = _problems(config)
    if problems:
        numbered = [Text(f"{i}. {p.zh}", f"{i}. {p.en}") for i, p in enumerate(problems, start=1)]
        return CheckResult(
            "config",
            Status.FAIL,
            cause=Text(
                "钉钉授权设置有 "
                + str(len(problems))
                + " 处问题：\n"
                + "\n".join(p.zh for p in numbered),
                f"The DingTalk settings have {len(problems)} problem(s):\n"
                + "\n".join(p.en for p in numbered),
            ),
            fix=Text(
                "在 应用空间管理 → 钉钉授权(微应用) 中改正以上各项后保存，再测试连接。",
                "Correct each item in the space's 钉钉授权(微应用) settings, save, and test again.",
            ),
            data={"problems": [p.as_dict() for p in problems]},
        )
    if not config.enabled:
        return CheckResult(
            "config",
            Status.WARN,
            cause=Text(
                "设置完整，但钉钉授权尚未开通：成员还不能用钉钉登录。",
                "The settings are complete but DingTalk sign-in is not turned on yet.",
            ),
            fix=Text(
                "所有检查通过后，在 钉钉授权(微应用) 勾选 开通 并保存。",
                "Once every check passes, tick 开通 in 钉钉授权(微应用) and save.",
            ),
        )
    via = f"via {config.forward_url.strip()}" if config.forward_url else "direct"
    return CheckResult.passed("config", detail=f"api_version={config.api_version}, {via}")
