"""The server's HTTP layer, the only code (with ``app.py``) that imports FastAPI/Starlette:
``console/`` (admin pages), ``api/`` (JSON admin API), ``space/`` (member pages), and the
pieces they share: errors, templating, i18n, CSRF, security headers, health, middleware."""

from dingbridge.web import ids

ids.register()
