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
from dingbridge.doctor.results import CheckResult, Message, Status, sentences

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
    extra_problems: tuple[Message, ...] = ()
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


_WHERE = Message("(DingTalk developer console → the app → 凭证与基础信息)")


def _problems(config: DoctorConfig) -> list[Message]:
    problems: list[Message] = list(config.extra_problems)
    corp_id, agent_id = config.corp_id.strip(), config.agent_id.strip()
    app_key, secret = config.app_key.strip(), config.app_secret.strip()
    if not corp_id:
        problems.append(
            Message(
                "企业ID (CorpId) is empty: copy it from the developer console home page "
                "(not the app page)."
            )
        )
    elif not is_corp_id(corp_id):
        problems.append(
            Message(
                "企业ID %(corp_id)s is malformed: it starts with 'ding' followed by letters "
                "and digits.",
                corp_id=repr(corp_id),
            )
        )
    if not agent_id:
        problems.append(sentences(Message("AgentId is empty"), _WHERE))
    elif not is_agent_id(agent_id):
        problems.append(
            sentences(
                Message("AgentId %(agent_id)s must be digits only", agent_id=repr(agent_id)),
                _WHERE,
            )
        )
    if not app_key:
        problems.append(sentences(Message("AppKey (Client ID) is empty"), _WHERE))
    elif not is_app_key(app_key):
        problems.append(
            sentences(
                Message(
                    "AppKey %(app_key)s has characters other than letters, digits, '-' and '_'",
                    app_key=repr(app_key),
                ),
                _WHERE,
            )
        )
    if not secret:
        problems.append(sentences(Message("AppSecret (Client Secret) is not set"), _WHERE))
    elif any(c.isspace() for c in secret):
        problems.append(
            Message("The AppSecret contains spaces or line breaks: copy it again without blanks.")
        )
    if config.api_version not in ("v1", "v2"):
        problems.append(
            Message(
                "钉钉接口版本 %(version)s is invalid: V2 for new apps, V1 for legacy.",
                version=repr(config.api_version),
            )
        )
    try:
        endpoints_for(config)
    except ForwardAddressError as exc:
        problems.append(_forward_problem((config.forward_url or "").strip(), exc))
    return problems


def _forward_problem(address: str, exc: ForwardAddressError) -> Message:
    """The DingTalk client's own words on the address (a catalog message), and the example."""
    example = Message(
        "Write http://<forwarder>:888/api-dingtalk-com/ (the /api-dingtalk-com/ prefix is "
        "required)."
    )
    reason = exc.args[0] if exc.args and isinstance(exc.args[0], Message) else Message(str(exc))
    return sentences(
        Message("The forward address (钉钉API转发地址) %(address)s is wrong:", address=address),
        reason,
        example,
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
        numbered = "\n".join(f"{i}. %(p{i})s" for i in range(1, len(problems) + 1))
        listed = {f"p{i}": problem for i, problem in enumerate(problems, start=1)}
        return CheckResult(
            "config",
            Status.FAIL,
            cause=Message(
                "The DingTalk settings have %(count)s problem(s):\n%(problems)s",
                count=len(problems),
                problems=Message(numbered, **listed),
            ),
            fix=Message(
                "Correct each item in the space's 钉钉授权(微应用) settings, save, and test again."
            ),
            data={"problems": [p.as_dict() for p in problems]},
        )
    if not config.enabled:
        return CheckResult(
            "config",
            Status.WARN,
            cause=Message("The settings are complete but DingTalk sign-in is not turned on yet."),
            fix=Message("Once every check passes, tick 开通 in 钉钉授权(微应用) and save."),
        )
    via = f"via {config.forward_url.strip()}" if config.forward_url else "direct"
    return CheckResult.passed("config", detail=f"api_version={config.api_version}, {via}")
