"""Each app space is an OpenID Connect provider (issuer ``{external URL}/{space}``).

Protocol code only: no web framework (``dingbridge/web/space/oidc.py`` turns requests into calls
of :mod:`dingbridge.oidc.provider` and results into responses). OAuth 2.0 and OpenID Connect are
authlib's server core (:mod:`dingbridge.oidc.server`), keys and tokens joserfc's:

- :mod:`~dingbridge.oidc.signing_keys`: a space's signing keys (RS256, ES256), encrypted at rest,
  rotatable, served as the JWKS;
- :mod:`~dingbridge.oidc.subjects`: who the member is to an app (``sub`` and the claims);
- :mod:`~dingbridge.oidc.codes`: authorization codes in the shared KV (60 s, single use);
- :mod:`~dingbridge.oidc.tokens`: issued tokens, stored hashed, refresh rotation and families;
- :mod:`~dingbridge.oidc.server`: authlib's ``AuthorizationServer`` with its grants and
  endpoints, its storage hooks bridged to our async storage;
- :mod:`~dingbridge.oidc.provider`: what the web layer calls;
- :mod:`~dingbridge.oidc.backchannel`: back-channel logout tokens, sent through
  :mod:`~dingbridge.oidc.logout_client`.
"""
