"""The DingTalk API forwarder (the vendor guide's step 1): a drop-in for its nginx on port 888.

- :mod:`.settings`: options (flags, ``DINGBRIDGE_FORWARD_*`` environment, TOML) and validation.
- :mod:`.routing`: the vendor guide's three routes and the open-proxy guard.
- :mod:`.policy`: optional caller token and CIDR allowlist.
- :mod:`.server`, :mod:`.client_connection`, :mod:`.exchange`, :mod:`.upstream_pool`: the fast
  standalone forwarder (asyncio protocols + httptools, pooled keep-alive upstream connections).
- :mod:`.asgi`: the same routes as an ASGI app the server mounts.
- :mod:`.nginx_conf`: an equivalent nginx configuration.
"""

from dingbridge.forwarder.settings import ForwarderSettings, SettingsError, load_settings

__all__ = ["ForwarderSettings", "SettingsError", "load_settings"]
