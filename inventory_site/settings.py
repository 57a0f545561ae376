"""Settings read from the environment (django-environ).

SQLite is the embedded default for a first run; set ``DATABASE_URL`` to use
PostgreSQL (psycopg 3). Secrets have development defaults that are refused
when ``DEBUG`` is off.
"""

import datetime as dt
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)

# Fernet keys (urlsafe base64, 32 bytes) for credentials at rest, newest first,
# comma separated. The first encrypts; all decrypt (MultiFernet), so a key can
# be rotated with `manage.py rotate_credentials_key`.
DEV_FIELD_ENCRYPTION_KEY = "ZGV2LW9ubHktaW5zZWN1cmUta2V5LWRvLW5vdC11c2U="
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[DEV_FIELD_ENCRYPTION_KEY])

# Refused at start, not at the first request: no secret key, keys that are not Fernet
# keys, or (outside debug) the development keys. There is no switch that lets the
# development keys run with debug off: tests and benchmarks set keys of their own.
if not SECRET_KEY.strip():
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is empty.")
FIELD_ENCRYPTION_KEYS = [key.strip() for key in FIELD_ENCRYPTION_KEYS if key.strip()]
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key.encode())
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be urlsafe base64 Fernet keys (32 bytes each)."
        ) from None
if not DEBUG:
    if SECRET_KEY == DEV_SECRET_KEY:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY: the development key is refused.")
    if DEV_FIELD_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(
            "Set FIELD_ENCRYPTION_KEYS: the development encryption key is refused."
        )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    # django-q2 and django-axes under names staff read in their language (third_party_apps).
    "inventory_site.third_party_apps.TasksConfig",
    "import_export",
    "inventory_site.third_party_apps.LoginRecordsConfig",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "knox",
]
LOCAL_APPS = [
    "skus",
    "stores",
    "events",
    "imports",
    "purchasing",
    "sync",
    "rakuten",
    "futureshop",
    "ebay",
    "demo",
    "api",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    # First: every answer carries the request's id, and every log line written while it is
    # served (inventory_site.logs).
    "inventory_site.middleware.RequestId",
    "django.middleware.security.SecurityMiddleware",
    # Static files (compressed, hashed names) before anything that needs a session.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "inventory_site.middleware.RefuseNulBytes",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its answer.
    "axes.middleware.AxesMiddleware",
]

# Failed logins are throttled (django-axes): after AXES_FAILURE_LIMIT failures of one
# username from one address, that pair is locked out for AXES_COOLOFF_TIME.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

# Content-Security-Policy (django-csp): scripts and everything else from our own origin
# only (static files are vendored, nothing loads from a CDN); inline style attributes
# (the admin's) allowed, inline scripts not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "inventory_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "inventory_site.context_processors.modes",
            ],
        },
    },
]

WSGI_APPLICATION = "inventory_site.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
# Production runs on PostgreSQL: several web and worker processes write at once, and the
# row locks, SKIP LOCKED and the backup procedure (pg_dump) are PostgreSQL's. SQLite with
# debug off (a benchmark, the test suite) is an explicit choice.
if (
    not DEBUG
    and DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    and not env.bool("INVENTORY_ALLOW_SQLITE", default=False)
):
    raise ImproperlyConfigured(
        "Set DATABASE_URL to a PostgreSQL database: SQLite is refused with debug off "
        "(INVENTORY_ALLOW_SQLITE=1 allows it, e.g. for a benchmark)."
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the write lock when their transaction starts and wait for
    # it (timeout), instead of failing with "database is locked" when a read
    # inside a transaction is followed by a write while another writer works.
    sqlite_options = DATABASES["default"].setdefault("OPTIONS", {})
    sqlite_options.setdefault("timeout", 20)
    sqlite_options.setdefault("transaction_mode", "IMMEDIATE")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ja", "日本語"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Tokyo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The site's own CSS (header, navigation, narrow screens); apps keep theirs in <app>/static.
STATICFILES_DIRS = [BASE_DIR / "inventory_site" / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
# WhiteNoise serves what `collectstatic` put in STATIC_ROOT, under names that hold a hash
# of their content (cached for ever by browsers) and compressed (gzip, Brotli when
# installed); with debug on it serves the apps' files as they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Served over HTTPS (DJANGO_HTTPS=1): redirect plain HTTP and send HSTS, so browsers
# never talk to the app in clear again.
if env.bool("DJANGO_HTTPS", default=False):
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_SUBDOMAINS", default=False)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    if env.bool("DJANGO_BEHIND_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # A load balancer probes /healthz over plain HTTP, behind the TLS it terminates.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    # includeSubDomains and preload reach beyond this host (every subdomain; the browsers'
    # built-in list, hard to leave): off unless asked for, and then `check --deploy` need
    # not warn about a decision taken.
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
    SILENCED_SYSTEM_CHECKS = [
        *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
        *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
    ]

# Logs: one line per record with the id of the request being served (inventory_site.logs;
# the RequestId middleware sets it), as JSON lines with LOG_FORMAT=json. They go to stderr
# unless LOG_STREAM=stdout (the production profile: `make serve`, deploy/systemd), so that
# the commands whose output is data (healthcheck's JSON, a new API token) stay clean.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json.")
LOG_STREAM = env.str("LOG_STREAM", default="stderr")
if LOG_STREAM not in ("stdout", "stderr"):
    raise ImproperlyConfigured("LOG_STREAM must be stdout or stderr.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "inventory_site.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "inventory_site.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": f"ext://sys.{LOG_STREAM}",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# /healthz and `manage.py healthcheck`: an active store whose last successful poll is
# older than this (or than twice its own poll interval, whichever is longer) makes the
# answer 503 (0: polls are reported, never failing).
HEALTH_POLL_STALE_MINUTES = env.int("HEALTH_POLL_STALE_MINUTES", default=60)

# --- Inventory Sync ---------------------------------------------------------
# The stock ce1111 gets back from `reset_test_data`.
INVENTORY_TEST_RESET_STOCK = env.int("INVENTORY_TEST_RESET_STOCK", default=100)
# In test mode only SKUs of environment "test" are ever pushed to a platform.
INVENTORY_TEST_MODE = env.bool("INVENTORY_TEST_MODE", default=False)
# A worker's claim on a purchase (purchasing.services.purchase_claim) expires after this
# many seconds, so a crashed worker's purchases are claimed again.
PURCHASING_LOCK_SECONDS = env.int("PURCHASING_LOCK_SECONDS", default=600)
# The bearer token of spec 001's Purchasing API (/api/aggregation/purchasing/):
# `Authorization: Bearer <token>` acts as a system process there. Empty: no bearer is taken.
BATCH_STATS_API_TOKEN = env.str("BATCH_STATS_API_TOKEN", default="")

# --- Rakuten RMS client (rakuten/client.py) -------------------------------------
# (connect, read) seconds for every RMS call.
RAKUTEN_TIMEOUT = (
    env.float("RAKUTEN_CONNECT_TIMEOUT", default=5.0),
    env.float("RAKUTEN_READ_TIMEOUT", default=30.0),
)
# Retries of 429 / 5xx / timeouts, with backoff base·2^n seconds (1, 2, 4).
RAKUTEN_MAX_RETRIES = env.int("RAKUTEN_MAX_RETRIES", default=3)
RAKUTEN_BACKOFF_BASE = env.float("RAKUTEN_BACKOFF_BASE", default=1.0)
# Requests per second per shop, by endpoint name (rakuten/endpoints.py), overriding
# the defaults there, e.g. RAKUTEN_RATE_LIMITS='{"order.search": 2}'.
RAKUTEN_RATE_LIMITS = env.json("RAKUTEN_RATE_LIMITS", default={})
# How a poll finds the open orders that changed with few calls (searchOrder has no
# "changed since", ../shared/rakuten/RMS.md): one search per status group over the open
# orders' span (an order that entered or left a group is read: 300 -> a change or cancel
# request), one per date type over the poll window (4, shipping date: the orders
# shipped since), and every order at an always-read status (100: the buyer may still edit
# it; 200/400/800 are short-lived and few). Four searches a poll at 1/s. Whether RMS
# stamps every shipped order with a shipping date is not published: the re-read tiers and
# the nightly sweep catch what these searches miss. RAKUTEN_POLL_SEARCH_CHANGES=false
# reads every open order on every poll instead (ceil(open/100) getOrder calls).
RAKUTEN_POLL_SEARCH_CHANGES = env.bool("RAKUTEN_POLL_SEARCH_CHANGES", default=True)
RAKUTEN_POLL_STATUS_GROUPS = env.json("RAKUTEN_POLL_STATUS_GROUPS", default=[[100, 200, 400, 800]])
# Cancellations are searched over the orders placed in the last hours only: over the whole
# open span that search pages through every cancelled order each poll; an older order's
# cancellation is found by the re-read tiers (late: stock comes back late, never oversold).
RAKUTEN_POLL_CANCELLED_STATUSES = env.list(
    "RAKUTEN_POLL_CANCELLED_STATUSES", cast=int, default=[900]
)
RAKUTEN_POLL_CANCELLED_HOURS = env.int("RAKUTEN_POLL_CANCELLED_HOURS", default=24)
RAKUTEN_POLL_DATE_TYPES = env.list("RAKUTEN_POLL_DATE_TYPES", cast=int, default=[4])
RAKUTEN_POLL_ALWAYS_READ = env.list(
    "RAKUTEN_POLL_ALWAYS_READ", cast=int, default=[100, 200, 400, 800]
)

# --- The sync engine (sync/) ----------------------------------------------------------
# Hosts a store's API address may name besides the platform's own HTTPS hosts: the
# sandboxes of the demo and the tests (loopback by default). Credentials go nowhere else.
INVENTORY_SANDBOX_HOSTS = env.list(
    "INVENTORY_SANDBOX_HOSTS", default=["127.0.0.1", "localhost", "::1"]
)
# One adapter per platform: a store's platform_type picks its adapter here.
INVENTORY_PLATFORMS = {
    "rakuten": "rakuten.adapter.RmsAdapter",
    "futureshop": "futureshop.adapter.FutureshopAdapter",
    "ebay": "ebay.adapter.EbayAdapter",
}


def _engine_int(name: str, default: int) -> int:
    """SYNC_<name>, else the RAKUTEN_<name> these settings had before the engine
    served every platform (kept so that existing deployments keep their values)."""
    return env.int(f"SYNC_{name}", default=env.int(f"RAKUTEN_{name}", default=default))


# One job per (store, kind) at a time: a lease its holder renews while it works (a
# thread renews it every quarter of its time); a holder that dies is taken over once
# the lease runs out.
# 60 s: a killed worker's store is taken over within two minutes (the lease runs out,
# then the minute's schedule starts the job again).
SYNC_LEASE_SECONDS = _engine_int("LEASE_SECONDS", 60)

# futureshop (futureshop/): what is not published about its API, kept configurable.
FUTURESHOP_TIMEOUT = (
    env.float("FUTURESHOP_CONNECT_TIMEOUT", default=5.0),
    env.float("FUTURESHOP_READ_TIMEOUT", default=30.0),
)
FUTURESHOP_RATE_LIMITS = env.json("FUTURESHOP_RATE_LIMITS", default={})
FUTURESHOP_MAX_RETRIES = env.int("FUTURESHOP_MAX_RETRIES", default=3)
FUTURESHOP_BACKOFF_BASE = env.float("FUTURESHOP_BACKOFF_BASE", default=1.0)
# The order statuses that end an order (no longer re-read every poll) and that cancel it
# (every line takes 0): the public sources show AWAITING_PAYMENT and COMPLETED only.
FUTURESHOP_FINAL_STATUSES = env.list(
    "FUTURESHOP_FINAL_STATUSES", default=["COMPLETED", "CANCELLED", "CANCELED"]
)
FUTURESHOP_CANCELLED_STATUSES = env.list(
    "FUTURESHOP_CANCELLED_STATUSES", default=["CANCELLED", "CANCELED"]
)

# eBay (ebay/): eBay publishes daily quotas, no rate per second; revisions of a listing a
# day are limited (about 250): a push keeps a change pending rather than be refused.
EBAY_TIMEOUT = (
    env.float("EBAY_CONNECT_TIMEOUT", default=5.0),
    env.float("EBAY_READ_TIMEOUT", default=30.0),
)
EBAY_RATE_LIMITS = env.json("EBAY_RATE_LIMITS", default={})
EBAY_MAX_RETRIES = env.int("EBAY_MAX_RETRIES", default=3)
EBAY_BACKOFF_BASE = env.float("EBAY_BACKOFF_BASE", default=1.0)
EBAY_REVISIONS_PER_DAY = env.int("EBAY_REVISIONS_PER_DAY", default=240)
# An offers read tries the SKUs eBay failed on again at the end: this many rounds, the
# first after this pause, doubling.
EBAY_SKU_RETRY_ROUNDS = env.int("EBAY_SKU_RETRY_ROUNDS", default=2)
EBAY_SKU_RETRY_SECONDS = env.float("EBAY_SKU_RETRY_SECONDS", default=5.0)

# Polling: first poll starts at the time it runs (earlier orders are in the stock
# the pool started from); later polls search from the cursor less an overlap and
# re-read every order not yet final; the nightly sweep re-reads the lookback.
SYNC_POLL_INTERVAL_MINUTES = _engine_int("POLL_INTERVAL_MINUTES", 15)
SYNC_POLL_OVERLAP_MINUTES = _engine_int("POLL_OVERLAP_MINUTES", 60)
SYNC_POLL_LOOKBACK_DAYS = _engine_int("POLL_LOOKBACK_DAYS", 30)


def _reread_tiers(text: str) -> tuple[tuple[int | None, int], ...]:
    """ "1440:30,10080:120,*:720" -> ((1440, 30), (10080, 120), (None, 720)): an open order
    placed less than 1440 minutes ago is read again after 30 minutes without a read, …;
    "*" is any age (the last tier)."""
    tiers: list[tuple[int | None, int]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        age, _, every = part.partition(":")
        try:
            tier = (None if age.strip() == "*" else int(age), int(every))
        except ValueError:
            raise ImproperlyConfigured(
                f"SYNC_POLL_REREAD_TIERS: “{part}” is not age:minutes"
            ) from None
        if tier[1] < 1 or (tier[0] is not None and tier[0] < 1):
            raise ImproperlyConfigured(f"SYNC_POLL_REREAD_TIERS: “{part}” must be positive")
        tiers.append(tier)
    if not tiers or tiers[-1][0] is not None:
        raise ImproperlyConfigured("SYNC_POLL_REREAD_TIERS must end with a “*:minutes” tier")
    return tuple(tiers)


# Open orders are read again after a while even when no search shows a change (a platform
# may change an order in a way its search does not show): catches such a change in that
# time; the nightly sweep re-reads everything.
SYNC_POLL_REREAD_TIERS = _reread_tiers(
    env.str("SYNC_POLL_REREAD_TIERS", default="1440:30,10080:120,*:720")
)
# Failed pushes and confirmations: retry after base·2^(n-1) s, capped, then give up.
SYNC_RETRY_BASE_SECONDS = _engine_int("RETRY_BASE_SECONDS", 60)
SYNC_RETRY_CAP_SECONDS = _engine_int("RETRY_CAP_SECONDS", 3600)
SYNC_PUSH_MAX_ATTEMPTS = _engine_int("PUSH_MAX_ATTEMPTS", 8)
# A stock write that succeeded only after a timeout may still be applied late by the
# platform (over a newer value): the store's stock is read back this long after.
SYNC_VERIFY_SECONDS = env.int("SYNC_VERIFY_SECONDS", default=90)
RAKUTEN_CONFIRM_MAX_ATTEMPTS = env.int("RAKUTEN_CONFIRM_MAX_ATTEMPTS", default=8)

# --- django-q2 -----------------------------------------------------------------------------
# The database broker by default (guaranteed delivery, nothing else to run); Redis
# when REDIS_URL is set. Our own rows carry retries and backoff, so django-q2 runs
# a task once (max_attempts 1) and a task's timeout stays below `retry`.
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": "inventory-sync",
    "workers": env.int(
        "Q_WORKERS", default=1 if DATABASES["default"]["ENGINE"].endswith("sqlite3") else 2
    ),
    "timeout": 1500,
    "retry": 1800,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 500,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    Q_CLUSTER["orm"] = "default"
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
        }
    }


# --- The JSON API (/api/) ------------------------------------------------------------------
# Token auth (knox: hashed, expiring, per user; the API token model is api.ApiToken), the
# session for the browsable pages; the same permissions as the pages; errors as JSON with
# a code; throttled per token.
KNOX_TOKEN_MODEL = "api.ApiToken"  # noqa: S105 - a model name, not a secret
# knox's own migrations create its (here replaced) table whatever KNOX_TOKEN_MODEL says;
# a table Django does not know that references auth_user makes PostgreSQL refuse every
# flush of the test database. Its models are swapped out: nothing of knox's to migrate.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": dt.timedelta(days=env.int("API_TOKEN_DAYS", default=90)),
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_PREFIX": "is_",
}
REST_FRAMEWORK = {
    # The token class first: its WWW-Authenticate header makes a missing token a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.base.MethodPermission"],
    "DEFAULT_PAGINATION_CLASS": "api.base.Pages",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["api.base.TokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": env.str("API_THROTTLE_RATE", default="600/minute")},
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": [
        "api.base.JsonParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Inventory Sync API",
    "DESCRIPTION": (
        "One stock pool per SKU, kept in step across Rakuten, futureshop and other stores. "
        "Authenticate with `Authorization: Token <token>` (create one at /api/tokens)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs are for staff, like every page.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "sync.models.SyncRun.Status",
        # Stores and SKUs share one choice set (active / inactive).
        "ActiveStatusEnum": "stores.models.Store.Status",
    },
}

# Mail (the daily low-stock summary). The demo and DEBUG print mails on the console; in
# production set EMAIL_URL (e.g. smtp+tls://user:password@smtp.example.com:587).
_email = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="inventory-sync@localhost")
# Who gets the low-stock summary: these addresses, or when empty every active staff user
# with an e-mail address who may see SKUs. The language of the mail.
LOW_STOCK_MAIL_TO = env.list("LOW_STOCK_MAIL_TO", default=[])
LOW_STOCK_MAIL_LANGUAGE = env.str("LOW_STOCK_MAIL_LANGUAGE", default="ja")

# An upload's text is kept this many days (only the columns the import reads once it is
# confirmed or cancelled), then emptied by the nightly purge.
IMPORTS_ORIGINAL_RETENTION_DAYS = env.int("IMPORTS_ORIGINAL_RETENTION_DAYS", default=30)
