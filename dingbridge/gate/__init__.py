"""The forward-auth gate: apps that speak no OpenID Connect learn the signed-in member from
identity headers that a reverse proxy (nginx ``auth_request``, Traefik ``forwardAuth``, Caddy
``forward_auth``) adds after asking dingbridge.

- :mod:`~dingbridge.gate.identity_headers`: the header names, how values are encoded, the
  cookies the app must never see;
- :mod:`~dingbridge.gate.return_urls`: where a sign-in may send the browser back (that app only);
- :mod:`~dingbridge.gate.gate_sessions`: one-time tickets and the gate sessions on the app's
  host, and the check itself (one KV read);
- :mod:`~dingbridge.gate.nginx_conf`: ``dingbridge app nginx-conf``.

The web side is :mod:`dingbridge.web.gate_endpoints` (``/_dingbridge/…``, what the proxy calls)
and :mod:`dingbridge.web.space.gate` (``/{space}/gate/{app}``, the sign-in step).
"""
