"""Jinja2 templates with gettext, one environment per language."""

from __future__ import annotations

import functools
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from dingbridge.i18n import LANGUAGE_NAMES, html_lang, translate, translations
from dingbridge.settings import LANGUAGES
from dingbridge.web.i18n import request_language
from dingbridge.web.times import time_element

TEMPLATE_DIR = Path(__file__).parent / "templates"


def html_attrs(attrs: dict[str, str | int | bool | None]) -> Markup:
    """HTML attributes from a mapping, each value escaped once: ``{"maxlength": 200,
    "required": True}`` gives `` maxlength="200" required``; ``False`` and ``None`` leave the
    attribute out. A string is refused: it would be escaped whole (``autocomplete=&#34;…``)."""
    if not isinstance(attrs, dict):
        raise TypeError(f"attrs must be a dict of attribute names to values, not {attrs!r}")
    parts: list[Markup] = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        if not name or any(c in name for c in " \"'<>=/"):
            raise ValueError(f"not an attribute name: {name!r}")
        if value is True:
            parts.append(Markup(" {}").format(name))
        else:
            parts.append(Markup(' {}="{}"').format(name, str(value)))
    return Markup("").join(parts)


class Templates:
    """``auto_reload`` (development mode) re-reads changed template files; in production every
    render would otherwise stat each template it uses, a measurable share of a page view."""

    def __init__(
        self, default_language: str, *, zone: tzinfo = UTC, auto_reload: bool = False
    ) -> None:
        self.default_language = default_language
        self.zone = zone
        self._envs: dict[str, jinja2.Environment] = {}
        for language in LANGUAGES:
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
                autoescape=jinja2.select_autoescape(default=True),
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
                auto_reload=auto_reload,
            )
            env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
            env.globals["language_names"] = LANGUAGE_NAMES
            env.globals["html_attrs"] = html_attrs
            env.globals["tr"] = functools.partial(translate, language=language)
            env.filters["local_time"] = functools.partial(time_element, zone=zone)
            self._envs[language] = env

    def language(self, request: Request) -> str:
        return request_language(request, self.default_language)

    def render_string(self, request: Request, name: str, context: dict[str, Any]) -> str:
        language = self.language(request)
        template = self._envs[language].get_template(name)
        values = {"request": request, "lang": language, "html_lang": html_lang(language)}
        values.update(context)
        return template.render(values)

    def response(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        return HTMLResponse(self.render_string(request, name, context), status_code=status)

    def gettext(self, request: Request, message: str) -> str:
        """``message`` (a catalog id or a :class:`dingbridge.i18n.Message`) in the request's
        language."""
        return translate(message, self.language(request))


def get_templates(request: Request) -> Templates:
    """The templates of the app serving ``request`` (set up by ``create_app``)."""
    templates: Templates = request.app.state.templates
    return templates
