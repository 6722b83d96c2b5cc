from tests.kv.backends import kv_backend  # noqa: F401  (fixture shared with tests/signin)
from tests.oidc.oidc_world import oidc_world  # noqa: F401  (the OpenID provider's world)
