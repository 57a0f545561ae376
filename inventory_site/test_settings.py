"""Settings for the test suite: fast hashing, in-memory cache and mail."""

import os

# Keys of the test run's own (not the development ones), passed on to the processes the
# tests start (workers, benchmarks), so that they read the same credentials.
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-" + "x" * 30)
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWZlcm5ldC1rZXktMzItYnl0ZXMtISE=")
# The suite runs on SQLite unless DATABASE_URL says otherwise, with debug off.
os.environ.setdefault("INVENTORY_ALLOW_SQLITE", "1")

from inventory_site.settings import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# No collectstatic before the tests: static files keep their names (production hashes them).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Nor a STATIC_ROOT to index at start: WhiteNoise looks a static file up when asked.
WHITENOISE_AUTOREFRESH = True
LOGGING["root"]["level"] = "WARNING"  # noqa: F405

# Tasks run inline in tests (schedules do not fire: tests call the scheduler).
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405

# The sandbox in the tests answers in microseconds: keep the client quick too.
RAKUTEN_RATE_LIMITS = {
    "order.search": 50,
    "order.get": 50,
    "order.confirm": 50,
    "inventory.variant.get": 50,
    "inventory.variant.upsert": 50,
    "inventory.bulk_get": 50,
    "inventory.bulk_upsert": 50,
    "items.search": 50,
    "license.expiry": 50,
}
RAKUTEN_BACKOFF_BASE = 0.01
RAKUTEN_TIMEOUT = (1.0, 2.0)

# The futureshop sandbox in the tests answers at once too.
FUTURESHOP_RATE_LIMITS = 50.0
FUTURESHOP_BACKOFF_BASE = 0.01
FUTURESHOP_TIMEOUT = (1.0, 2.0)

# And the eBay sandbox.
EBAY_RATE_LIMITS = 200.0
EBAY_BACKOFF_BASE = 0.01
EBAY_TIMEOUT = (1.0, 2.0)
EBAY_SKU_RETRY_SECONDS = 0.0
