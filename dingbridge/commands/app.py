"""``dingbridge app …``: a space's apps (links, OpenID Connect clients, forward-auth apps)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from dingbridge.commands.db import DatabaseUrlOption, DataDirOption, complain, load_settings
from dingbridge.i18n import N_

if TYPE_CHECKING:
    from dingbridge.settings import Settings

cli = typer.Typer(
    help="A space's apps: links, OpenID Connect clients and forward-auth apps.",
    no_args_is_help=True,
)


# -- apps: create, list, delete, rotate-secret ---------------------------------------------------

T = TypeVar("T")
SpaceArgument = typer.Argument(..., metavar="SPACE", help="The space id, e.g. 10001.")
AppArgument = typer.Argument(..., metavar="APP", help="The app's id or client id.")
JsonOption = typer.Option(False, "--json", help="Print JSON.")
KINDS = ("link", "oidc", "forward-auth")


def _or_exit(settings: Settings, work: Callable[[], T]) -> T:
    """``work()``, or its error as one line on stderr (in the settings' language) and exit
    status 1."""
    from dingbridge.errors import DingbridgeError

    try:
        return work()
    except DingbridgeError as exc:
        typer.echo("dingbridge: ", err=True, nl=False)
        complain(settings, exc.message)
        raise typer.Exit(1) from None


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


@cli.command("create")
def create(
    space_id: int = SpaceArgument,
    name: str = typer.Option(..., "--name", help="The app's name as members see it."),
    url: str = typer.Option(..., "--url", help="Its address: http(s)://… or a /path here."),
    redirect_uri: list[str] = typer.Option(  # noqa: B008
        [], "--redirect-uri", help="An OIDC redirect URI, matched exactly (repeat for more)."
    ),
    post_logout_redirect_uri: list[str] = typer.Option(  # noqa: B008
        [], "--post-logout-redirect-uri", help="Where RP-initiated logout may return (repeat)."
    ),
    backchannel_logout_uri: str = typer.Option(
        "", "--backchannel-logout-uri", help="The app's OIDC back-channel logout URI."
    ),
    public: bool = typer.Option(
        False, "--public", help="A public OIDC client (no secret; PKCE required)."
    ),
    kind: str | None = typer.Option(
        None,
        "--kind",
        help="link, oidc or forward-auth (default: oidc with a --redirect-uri, else link).",
        show_default=False,
    ),
    icon: str = typer.Option("", "--icon", help="The address of the app's icon."),
    as_json: bool = JsonOption,
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Add an app to a space; an OIDC app's client secret is printed once.

    The issuer printed is {external URL}/{space}: the external_url setting
    (DINGBRIDGE_EXTERNAL_URL), else the address `serve` listens on (http://HOST:PORT).
    With --json: {"id", "client_id", "client_secret", "issuer"} (no client_secret for --public).
    """
    from dingbridge.spaces.app_input import AppInput
    from dingbridge.spaces.headless_apps import create_app

    if kind is not None and kind not in KINDS:
        typer.echo(f"dingbridge: --kind must be one of {', '.join(KINDS)}", err=True)
        raise typer.Exit(2)
    settings = load_settings(data_dir=data_dir, database_url=database_url)
    data = AppInput(
        name=name,
        url=url,
        icon=icon,
        kind=(kind or ("oidc" if redirect_uri else "link")).replace("-", "_"),
        redirect_uris=tuple(redirect_uri),
        post_logout_redirect_uris=tuple(post_logout_redirect_uri),
        backchannel_logout_uri=backchannel_logout_uri,
        public_client=public,
    )
    created = _or_exit(settings, lambda: create_app(settings, space_id, data))
    if as_json:
        _print_json(created.as_json())
        return
    typer.echo(f"app {created.id} created in space {space_id}")
    if created.client_id is not None:
        typer.echo(f"client_id:     {created.client_id}")
        if created.client_secret is not None:
            typer.echo(f"client_secret: {created.client_secret}")
            complain(settings, N_("The client secret is not shown again: store it now."))
        typer.echo(f"issuer:        {created.issuer}")


@cli.command("list")
def list_(
    space_id: int = SpaceArgument,
    as_json: bool = JsonOption,
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """List a space's apps: id, kind, who may use it, client id, name, address."""
    from dingbridge.spaces.headless_apps import list_apps

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    found = _or_exit(settings, lambda: list_apps(settings, space_id))
    if as_json:
        _print_json(found)
        return
    for item in found:
        typer.echo(
            f"{item['id']}\t{item['kind']}\t{item['access']}\t{item['client_id'] or '-'}\t"
            f"{item['name']}\t{item['url']}"
        )


@cli.command("delete")
def delete(
    space_id: int = SpaceArgument,
    app_ref: str = AppArgument,
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Delete an app (an OIDC app's client stops working at once)."""
    from dingbridge.spaces.headless_apps import delete_app

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    deleted = _or_exit(settings, lambda: delete_app(settings, space_id, app_ref))
    typer.echo(f"app {deleted['id']} ({deleted['name']}) deleted from space {space_id}")


@cli.command("rotate-secret")
def rotate_secret(
    space_id: int = SpaceArgument,
    app_ref: str = AppArgument,
    as_json: bool = JsonOption,
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Give an OIDC app a new client secret, printed once; the old one stops working."""
    from dingbridge.spaces.headless_apps import rotate_secret as rotate

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    rotated = _or_exit(settings, lambda: rotate(settings, space_id, app_ref))
    if as_json:
        _print_json(rotated.as_json())
        return
    typer.echo(f"client_id:     {rotated.client_id}")
    typer.echo(f"client_secret: {rotated.client_secret}")
    complain(settings, N_("The client secret is not shown again: store it now."))


@cli.command("nginx-conf")
def nginx_conf(
    app_id: int = typer.Argument(..., metavar="APP", help="The forward-auth app's id."),
    listen: str = typer.Option(..., "--listen", help="HOST:PORT nginx listens on (the app's)."),
    upstream: str = typer.Option(
        ..., "--upstream", help="The app itself, e.g. http://127.0.0.1:3000."
    ),
    dingbridge: str = typer.Option(
        ...,
        "--dingbridge",
        help="dingbridge's URL, as nginx reaches it and browsers see it.",
    ),
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Print an nginx.conf that puts a forward-auth app behind dingbridge's gate (run it with
    `nginx -p DIR -c FILE`)."""
    from dingbridge.errors import DingbridgeError
    from dingbridge.gate.gate_apps import forward_auth_app
    from dingbridge.gate.nginx_conf import GateConf, render_gate_nginx_conf
    from dingbridge.spaces.headless import run_in_transaction

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    try:
        space_id, url = run_in_transaction(
            settings, lambda session: forward_auth_app(session, app_id)
        )
        text = render_gate_nginx_conf(GateConf(space_id, app_id, url, listen, upstream, dingbridge))
    except (DingbridgeError, ValueError) as exc:
        complain(settings, exc.message if isinstance(exc, DingbridgeError) else str(exc))
        raise typer.Exit(1) from None
    typer.echo(text, nl=False)


# -- the OpenID provider's signing keys (keep at the end of the module) --------------------
@cli.command("rotate-keys")
def rotate_keys(
    space_id: int = typer.Argument(..., metavar="SPACE", help="The app space, e.g. 10001."),
    alg: str = typer.Option(
        "RS256", "--alg", help="Signing algorithm of the new key: RS256 (default) or ES256."
    ),
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """A new ID-token signing key for a space's OpenID Connect apps; the old keys stay in the
    space's JWKS until the tokens they signed have expired."""
    from dingbridge.commands.db import load_settings
    from dingbridge.errors import DingbridgeError
    from dingbridge.oidc.headless import rotate_space_keys

    if alg not in ("RS256", "ES256"):
        typer.echo("--alg must be RS256 or ES256", err=True)
        raise typer.Exit(2)
    settings = load_settings(data_dir=data_dir, database_url=database_url)
    try:
        kid = rotate_space_keys(settings, space_id, alg)
    except DingbridgeError as exc:
        complain(settings, exc.message)
        raise typer.Exit(1) from None
    typer.echo(f"space {space_id}: new signing key {kid} ({alg}); apps fetch it from the JWKS")
