# The RMS sandbox and three stores on it (rakuten/tests/conftest.py): the restore tests
# push through the real client to a real (loopback) sandbox.
from rakuten.tests.conftest import engine, sandbox, sandbox_server  # noqa: F401
