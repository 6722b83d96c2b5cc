"""The security tests, one module per attack class (``test_<class>.py``); each module's
docstring says what it tries and where older tests of the same class live."""

from tests.kv.backends import kv_backend  # noqa: F401  (the KV conformance backends)
from tests.signin.signin_world import two_worlds, world  # noqa: F401  (the sign-in world)
from tests.web.conftest import admin, server, settings  # noqa: F401  (a console with an admin)
