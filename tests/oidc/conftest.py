from tests.oidc.oidc_world import oidc_world  # noqa: F401  (the OpenID provider's world)
