from tests.kv.backends import kv_backend  # noqa: F401  (fixture shared with tests/signin)
