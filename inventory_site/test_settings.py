"""Settings for the test suite: fast hashing, in-memory cache and mail."""

import os

os.environ.setdefault("INVENTORY_ALLOW_DEV_SECRETS", "1")

from inventory_site.settings import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405

# Tasks run inline in tests (schedules do not fire: tests call the scheduler).
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
