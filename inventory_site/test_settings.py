"""Settings for the test suite: fast hashing, in-memory cache and mail."""

import os

os.environ.setdefault("INVENTORY_ALLOW_DEV_SECRETS", "1")

from inventory_site.settings import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
