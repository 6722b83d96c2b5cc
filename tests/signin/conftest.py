from tests.kv.backends import kv_backend  # noqa: F401  (fixture shared with tests/signin)
from tests.signin.signin_world import two_worlds, world  # noqa: F401  (sign-in flow tests)
