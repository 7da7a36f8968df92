"""Settings for Customer hub: one module, driven by environment variables (DESIGN.md §5).

DATABASE_URL          sqlite:///db.sqlite3 (default) or postgres://user:pass@host:5432/name
DJANGO_SECRET_KEY     required when DJANGO_DEBUG is off
DJANGO_DEBUG          "1"/"true" for development (default on, so `make run` works as is)
DJANGO_ALLOWED_HOSTS  comma-separated host names
DJANGO_SECURE_SSL_REDIRECT, DJANGO_HSTS_SECONDS   TLS hardening, on by default when DEBUG is off
DJANGO_CSRF_TRUSTED_ORIGINS  comma-separated origins (https://hub.example.com)
REDIS_URL             redis://host:6379/0: the shared cache (rate limits, lockout); local memory if unset
HUB_LIMITS_STORE      cache | database: where limits are counted (tenants/throttling.py)
HUB_TRUSTED_PROXIES   reverse proxies in front that append to X-Forwarded-For (tenants/proxies.py)
HUB_API_RATE, HUB_LOGIN_RATE, HUB_LOGIN_USERNAME_RATE, HUB_LOGIN_LOCKOUT_*   see tenants/throttling.py
HUB_LOG_FORMAT        json | plain: the console log format (json unless DEBUG; tenants/logs.py)
HUB_METRICS           "1" routes /metrics (tenants/metrics.py); HUB_METRICS_TOKEN its bearer secret,
                      HUB_METRICS_ALLOW the addresses/networks that may scrape it (comma-separated)
PROMETHEUS_MULTIPROC_DIR  where gunicorn's workers share their metrics (deploy/gunicorn.conf.py)
HUB_EVENTS_RETENTION_DAYS   days the change events are kept (default 30; manage.py purge_events)
HUB_HOUSEKEEPING_SECONDS    how often hub_worker purges expired events and idempotency records (3600)
HUB_ERASED_RETENTION_DAYS   days the history and events of erased/deactivated customers are kept (365)
HUB_EXPORT_INLINE_MAX       rows above which a customer export is a job for the worker (2000)
HUB_EXPORT_TTL_HOURS        hours a job's export bundle waits for its download (24)
"""

import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_tasks",
    "django_tasks_db",
    "tenants",
    "customers",
    "pricelists",
    "stores",
    "b2b",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "config.middleware.RequestObservationMiddleware",  # the request's log line and metrics
    "config.middleware.ApiNoStoreMiddleware",
    "config.middleware.ProxyBodyLimitMiddleware",  # nginx's 413, in the dialect's format
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tenants.idempotency.IdempotencyMiddleware",
    "config.middleware.DialectErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
# The dialects' paths have no trailing slash (/customers, /customers/bulk, /api/data/customer/:id),
# so config/urls.py includes each dialect under a slash-less prefix and the dialect's patterns
# start with "/": exactly what urls.W002 warns about, deliberately.
SILENCED_SYSTEM_CHECKS = [
    "urls.W002",
    # Covering indexes (b2b): PostgreSQL includes the extra columns, SQLite builds the plain
    # index, which is what the embedded database should do (docs/performance.md).
    "models.W040",
]
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent requests wait for the write lock instead of failing with "database is
    # locked": IMMEDIATE transactions take the lock up front (no upgrade deadlock), WAL lets
    # readers run beside the writer, and busy_timeout makes a writer wait up to 30 s.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=30000;PRAGMA foreign_keys=ON;"
        ),
    }
    # The test database is a file (in RAM where /dev/shm exists), one per test run: in
    # memory, SQLite shares one cache between connections and a thread that meets a lock gets
    # "database table is locked" at once instead of waiting, so the race tests could not run.
    _shm = Path("/dev/shm")
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("SQLITE_TEST_NAME")
        or str(
            (_shm if _shm.is_dir() else Path(tempfile.gettempdir()))
            / f"hub-test-{os.getpid()}.sqlite3"
        )
    }

# A read replica (config/db_router.py): safe requests' reads go there, the rest to default.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["config.db_router.PrimaryReplicaRouter"]
    MIDDLEWARE.insert(1, "config.db_router.ReplicaReadsMiddleware")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]  # dates and times with their time zone named

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Cache (rate limits and login lockout must hold across workers: Redis in production) ----
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("HUB_CACHE_PREFIX", "hub"),
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "hub"}
    )
}

# --- Reliability (tenants/idempotency.py, tenants/throttling.py) ------------------------------
HUB_IDEMPOTENCY_TTL_HOURS = float(os.environ.get("HUB_IDEMPOTENCY_TTL_HOURS", "24"))
# change events are kept this many days (tenants.events.events_purge, manage.py purge_events)
HUB_EVENTS_RETENTION_DAYS = int(os.environ.get("HUB_EVENTS_RETENTION_DAYS", "30"))
# how often each pumping hub_worker runs the retention chores (tenants/housekeeping.py)
HUB_HOUSEKEEPING_SECONDS = float(os.environ.get("HUB_HOUSEKEEPING_SECONDS", "3600"))
# privacy (docs/privacy.md): days the history and events of erased or deactivated customers are
# kept (manage.py enforce_retention, and hub_worker's housekeeping); a customer export of more
# rows than HUB_EXPORT_INLINE_MAX is built by the worker, its bundle kept HUB_EXPORT_TTL_HOURS
HUB_ERASED_RETENTION_DAYS = int(os.environ.get("HUB_ERASED_RETENTION_DAYS", "365"))
HUB_EXPORT_INLINE_MAX = int(os.environ.get("HUB_EXPORT_INLINE_MAX", "2000"))
HUB_EXPORT_TTL_HOURS = float(os.environ.get("HUB_EXPORT_TTL_HOURS", "24"))
HUB_IDEMPOTENCY_LOCK_SECONDS = float(os.environ.get("HUB_IDEMPOTENCY_LOCK_SECONDS", "60"))
HUB_LOGIN_LOCKOUT_ATTEMPTS = int(os.environ.get("HUB_LOGIN_LOCKOUT_ATTEMPTS", "5"))
HUB_LOGIN_LOCKOUT_MINUTES = float(os.environ.get("HUB_LOGIN_LOCKOUT_MINUTES", "15"))
HUB_LOGIN_KNOWN_ADDRESS_DAYS = float(os.environ.get("HUB_LOGIN_KNOWN_ADDRESS_DAYS", "30"))
# Where limits are counted: without Redis, production (DEBUG off) shares them through the
# database; DEBUG's runserver is one process, where local memory is exact.
HUB_LIMITS_STORE = os.environ.get("HUB_LIMITS_STORE") or (
    "cache" if REDIS_URL or DEBUG else "database"
)
# Proxies that append the client's address to X-Forwarded-For (1 behind deploy/'s nginx).
HUB_TRUSTED_PROXIES = int(os.environ.get("HUB_TRUSTED_PROXIES", "0"))

# --- Request limits ---------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DJANGO_MAX_BODY_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- Security (production: DJANGO_DEBUG off, behind TLS) ---------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    # The TLS terminator (load balancer, nginx) sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Probes and scrapes may reach gunicorn itself, over plain HTTP on the loopback.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --- REST framework ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants.authentication.BearerAuthentication",
        "tenants.authentication.ApiKeyAuthentication",
        "tenants.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["tenants.api.renderers.JSONRenderer"],  # orjson, DRF's bytes
    "DEFAULT_PARSER_CLASSES": ["tenants.api.parsers.JSONParser"],  # depth-limited
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tenants.api.base.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": ["tenants.throttling.CredentialRateThrottle"],
    "NUM_PROXIES": HUB_TRUSTED_PROXIES,  # DRF's own get_ident agrees with tenants.proxies
    "DEFAULT_THROTTLE_RATES": {
        "login": os.environ.get("HUB_LOGIN_RATE", "20/min"),
        # tenants/throttling.py: per credential, per user name on the password endpoints
        "api": os.environ.get("HUB_API_RATE", "100000/hour"),
        "login_username": os.environ.get("HUB_LOGIN_USERNAME_RATE", "10/min"),
    },
}

REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": __import__("datetime").timedelta(
        hours=int(os.environ.get("HUB_TOKEN_TTL_HOURS", "12"))
    ),
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Customer hub API",
    "DESCRIPTION": (
        "One customer record per person or company, for many tenants, served through four "
        "REST dialects that match four existing customer APIs: **data** (`/api/data/customer`), "
        "**store** (`/customers`), **peppered** (`/v1/{client_name}/peppered/`) and **b2b** "
        "(`/api/customers`, `/api/orders`), plus the authentication endpoints under "
        "`/api/auth/` and the hub's own API under `/api/hub/` (b2b's conventions: snake_case, "
        "`{data, meta}` envelopes with cursor paging, b2b's error object). Each dialect keeps "
        "its own casing, envelopes and error format; every "
        "response carries `X-Request-ID` and every error body names it."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # the actor of a history entry and of a change event: one enum, one name
    # "status" names two choice sets (orders', duplicate pairs'): each keeps a stable name
    "ENUM_NAME_OVERRIDES": {
        "ActorTypeEnum": ["user", "api_key", "system"],
        "StatusEnum": ["draft", "confirmed", "shipped", "delivered", "cancelled"],
        "DuplicatePairStatusEnum": ["open", "dismissed", "merged"],
        # the hub's own enums, named as its components are (Hub…)
        "HubMergeFieldEnum": "customers.merging.MERGE_FIELDS",
        "HubMergeSideEnum": "customers.api.hub.merges.SIDES",
        "HubDuplicateReasonEnum": "customers.duplicates.REASON_CODES",
    },
    "SCHEMA_PATH_PREFIX": r"/",
    "DISABLE_ERRORS_AND_WARNINGS": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tenants.schema.add_common_errors",
        "tenants.idempotency.add_idempotency_key",
    ],
}

# --- Logging (tenants/logs.py) ------------------------------------------------------------------
# One JSON object per line by default in production, readable lines for `make run`.
HUB_LOG_FORMAT = os.environ.get("HUB_LOG_FORMAT") or ("plain" if DEBUG else "json")
if HUB_LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("HUB_LOG_FORMAT must be json or plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "tenants.context.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {"()": "tenants.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": HUB_LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # 4xx warnings name the raw path; the request line (hub.request) says it better.
        "django.request": {"level": "ERROR", "propagate": True},
        # SQL with its parameters is personal data: never logged, even at DEBUG.
        "django.db.backends": {"level": "INFO", "propagate": True},
    },
}

# --- Metrics (tenants/metrics.py) and readiness (tenants/readiness.py) ------------------------
HUB_METRICS = env_bool("HUB_METRICS", False)
HUB_METRICS_TOKEN = os.environ.get("HUB_METRICS_TOKEN", "")
HUB_METRICS_ALLOW = env_list("HUB_METRICS_ALLOW")
HUB_METRICS_MAX_TENANTS = int(os.environ.get("HUB_METRICS_MAX_TENANTS", "200"))

# --- Domain settings --------------------------------------------------------------------------
HUB_API_KEY_PREFIX = "chk_"
HUB_DEMO_SEEDS: list[str] = []
HUB_DEMO_SEEDS.append("b2b.demo.seed")

# b2b analytics and credit checks: the thresholds and their defaults are in b2b/conf.py
# (DEFAULTS, documented in b2b/analytics.py and b2b/credit.py); override any of them here.
HUB_B2B: dict = {}
# --- Background tasks and webhooks (tenants/delivery.py, docs/webhooks.md) --------------------
# Django's Tasks API (the django-tasks backport) on the database: every worker process, on
# any machine, shares the queue through the database (`manage.py hub_worker`).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("HUB_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "webhooks"],
    }
}
#: "1" allows webhook URLs on loopback addresses (and plain http to them), for development
#: and tests; nothing else that is not a public address is ever allowed
HUB_WEBHOOKS_ALLOW_LOOPBACK = os.environ.get("HUB_WEBHOOKS_ALLOW_LOOPBACK", "0") == "1"
#: the key that encrypts signing secrets at rest; empty: derived from SECRET_KEY (and its
#: fallbacks, so a rotated SECRET_KEY still decrypts)
HUB_WEBHOOKS_ENCRYPTION_KEY = os.environ.get("HUB_WEBHOOKS_ENCRYPTION_KEY", "")
HUB_WEBHOOKS_TIMEOUT_SECONDS = float(os.environ.get("HUB_WEBHOOKS_TIMEOUT_SECONDS", "10"))
HUB_WEBHOOKS_MAX_PAYLOAD_BYTES = int(os.environ.get("HUB_WEBHOOKS_MAX_PAYLOAD_BYTES", "262144"))
HUB_WEBHOOKS_RETRY_HOURS = float(os.environ.get("HUB_WEBHOOKS_RETRY_HOURS", "72"))
HUB_WEBHOOKS_DISABLE_AFTER_HOURS = float(os.environ.get("HUB_WEBHOOKS_DISABLE_AFTER_HOURS", "72"))
HUB_WEBHOOKS_ROTATION_OVERLAP_HOURS = float(
    os.environ.get("HUB_WEBHOOKS_ROTATION_OVERLAP_HOURS", "24")
)
#: a claim not settled by then is claimed again (its worker died)
HUB_WEBHOOKS_LEASE_SECONDS = float(os.environ.get("HUB_WEBHOOKS_LEASE_SECONDS", "60"))
HUB_WEBHOOKS_BATCH = int(os.environ.get("HUB_WEBHOOKS_BATCH", "50"))
HUB_WEBHOOKS_MAX_IN_FLIGHT = int(os.environ.get("HUB_WEBHOOKS_MAX_IN_FLIGHT", "100"))
HUB_WEBHOOKS_CONCURRENCY = int(os.environ.get("HUB_WEBHOOKS_CONCURRENCY", "25"))
HUB_WEBHOOKS_GAP_SECONDS = float(os.environ.get("HUB_WEBHOOKS_GAP_SECONDS", "3600"))
HUB_WEBHOOKS_POLL_SECONDS = float(os.environ.get("HUB_WEBHOOKS_POLL_SECONDS", "0.5"))
