"""Quiver's one settings module, read from the environment.

With nothing set Quiver runs *embedded*: SQLite (WAL) and a generated secret key
under ``var/``, and a filesystem Celery broker. Setting ``DATABASE_URL`` switches to
production mode, where anything unsafe must be configured explicitly. DEBUG is off in
both unless ``DEBUG=1`` asks for it, so people see Quiver's error pages, never Django's
technical ones (a 404 of which lists every URL of the site).
"""

import ipaddress
import os
import secrets
import urllib.parse
from pathlib import Path
from typing import Any

import environ

from config import broker
from config.api.description import API_DESCRIPTION
from config.var import private_file, private_folder, private_var_dir

BASE_DIR = Path(__file__).resolve().parent.parent
# Private to Quiver's user (0700, its files 0600): it holds the database and secret key.
VAR_DIR = private_var_dir(Path(os.environ.get("QUIVER_VAR_DIR", BASE_DIR / "var")))

env = environ.Env()

EMBEDDED = "DATABASE_URL" not in os.environ
DEBUG = env.bool("DEBUG", default=False)


def _embedded_secret_key() -> str:
    """Keep one generated key per installation so sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


if "SECRET_KEY" in os.environ:
    SECRET_KEY = env.str("SECRET_KEY")
elif EMBEDDED:
    SECRET_KEY = _embedded_secret_key()
else:
    raise environ.ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is set.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "catalog",
    "telemetry",
    "planner",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.api.errors.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "catalog.accounts.tenancy.TenantMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "catalog.accounts.context_processors.navigation",
                "telemetry.context_processors.approvals",
            ],
        },
    },
]

# Database: SQLite in WAL mode under var/ unless DATABASE_URL names another.
DATABASES: dict[str, dict[str, Any]]
if EMBEDDED:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": private_file(VAR_DIR / "quiver.sqlite3"),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
else:
    DATABASES = {"default": dict(env.db("DATABASE_URL"))}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = {
            **(DATABASES["default"].get("OPTIONS") or {}),
            "init_command": "PRAGMA journal_mode=WAL;",
            "transaction_mode": "IMMEDIATE",
        }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Catalogs live in memory or on SSD: with PostgreSQL's default random_page_cost
        # (4, for spinning disks) deep pages of a 10,000-tool list sorted in memory
        # instead of walking the (tenant, enabled, name) index, at 3x the time.
        page_cost = env.float("DB_RANDOM_PAGE_COST", default=1.1)
        DATABASES["default"]["OPTIONS"] = {
            **(DATABASES["default"].get("OPTIONS") or {}),
            "options": f"-c random_page_cost={page_cost}",
        }
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The shared cache carries the catalog revision; embedded, a file cache every
# local process sees.
if "CACHE_URL" in os.environ:
    CACHES = {"default": env.cache("CACHE_URL")}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [path for path in [BASE_DIR / "static"] if path.is_dir()]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
# WhiteNoise serves static files from any web process, compressed and with long cache
# headers; `collectstatic` (run by bin/run) fills STATIC_ROOT. Embedded and in tests it
# also looks in the apps' folders so nothing needs collecting first.
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if Path(STATIC_ROOT).is_relative_to(VAR_DIR):
    # WhiteNoise serves them from Quiver's own processes: private like the rest of var/
    # (Django would make collected files 0644).
    private_folder(Path(STATIC_ROOT))
    STORAGES["staticfiles"]["OPTIONS"] = {
        "file_permissions_mode": 0o600,
        "directory_permissions_mode": 0o700,
    }
else:
    Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=EMBEDDED or DEBUG)

# Security. Production gets the strict defaults `check --deploy` asks for; embedded
# Quiver serves plain HTTP on this machine, so its cookies cannot be HTTPS-only.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
if not EMBEDDED:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Celery: Redis or RabbitMQ when CELERY_BROKER_URL is set, else a filesystem
# broker under var/ that needs no service.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    # kombu's filesystem transport with whole-message writes, polled every 5 ms.
    CELERY_BROKER_TRANSPORT = broker.TRANSPORT
    CELERY_BROKER_TRANSPORT_OPTIONS = broker.transport_options(VAR_DIR)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker process keeps its database connection across tasks (Celery's default closes it
# every few tasks, and a new connection costs more than a trivial run).
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Worker-side modules with tasks, imported by the worker at start.
CELERY_IMPORTS = ["planner.tasks"]
CELERY_TASK_ROUTES = {"planner.tasks.run_execution": {"queue": "executions"}}
# Above the default 30 s tool timeout: the sandbox times a run out first, and the soft
# limit still lets the executor record the run as failed before the hard kill.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=75)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
# Run by `celery beat` every QUIVER_REAPER_PERIOD_S: fail runs whose worker vanished, and
# send again queued runs whose task never reached the broker, or reached it longer than
# QUIVER_RESEND_AFTER_S ago and no worker took it (see planner.tasks.reap_lost_executions).
QUIVER_REAPER_PERIOD_S = env.float("QUIVER_REAPER_PERIOD_S", default=30.0)
QUIVER_RESEND_AFTER_S = env.float("QUIVER_RESEND_AFTER_S", default=300.0)
CELERY_BEAT_SCHEDULER = "config.beat:OneBeatScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "reap-lost-executions": {
        "task": "planner.tasks.reap_lost_executions",
        "schedule": QUIVER_REAPER_PERIOD_S,
    }
}

REST_FRAMEWORK = {
    # drf-spectacular's AutoSchema plus the error responses every endpoint can give.
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # -- authentication, permissions, throttling, errors (F1; catalog/api/) --
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.auth.TenantMember"],
    "DEFAULT_THROTTLE_CLASSES": ["config.api.throttling.ApiRateThrottle"],
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies only (import also reads YAML and uploads), checked for depth and text
    # that cannot be stored; forms could not carry the nested definitions and arguments.
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.JSONParser"],
    "DEFAULT_METADATA_CLASS": "config.api.metadata.Metadata",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Requests per user (their API keys and session share one budget) in the shared cache:
# "<count>/<s|min|hour|day>", reads (GET, HEAD, OPTIONS) and writes counted apart; "off"
# disables a limit.
API_THROTTLE_READ = env.str("API_THROTTLE_READ", default="600/min")
API_THROTTLE_WRITE = env.str("API_THROTTLE_WRITE", default="120/min")
API_THROTTLE_CACHE = env.str("API_THROTTLE_CACHE", default="default")

SPECTACULAR_SETTINGS = {
    "TITLE": "Quiver API",
    "DESCRIPTION": API_DESCRIPTION,
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its readers are public; every endpoint they describe is not.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "catalog.models.Role",
        "ExecutionStatusEnum": "telemetry.models.ExecutionStatus",
        "ToolStatusEnum": "catalog.models.ToolStatus",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "displayRequestDuration": True},
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog:dashboard"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)

# Failed sign-ins: slowed after a few, then locked for a while (catalog/accounts/signin.py).
SIGNIN_SLOW_AFTER = env.int("SIGNIN_SLOW_AFTER", default=3)
SIGNIN_LOCK_AFTER = env.int("SIGNIN_LOCK_AFTER", default=10)
SIGNIN_LOCK_SECONDS = env.int("SIGNIN_LOCK_SECONDS", default=15 * 60)

# Scripts and styles come only from our own static files: no inline script, style
# attribute or event handler anywhere (htmx is configured not to inject its styles).
CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# The sandbox for script tools (planner/sandbox): the operator's limits for this machine.
# A tool's memory may not exceed SANDBOX_MAX_MEMORY_MB (default: half the machine's memory,
# at most 4 GB). Network-enabled scripts reach outside addresses only, plus the internal
# networks listed here (CIDRs, for tools that manage them), never the hosts of Quiver's own
# database, cache and broker nor those in QUIVER_SANDBOX_BLOCKED_HOSTS.
_MACHINE_MB = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
SANDBOX_MAX_MEMORY_MB = env.int(
    "QUIVER_SANDBOX_MAX_MEMORY_MB", default=max(64, min(4096, _MACHINE_MB // 2))
)
if not 16 <= SANDBOX_MAX_MEMORY_MB < _MACHINE_MB:
    raise environ.ImproperlyConfigured(
        f"QUIVER_SANDBOX_MAX_MEMORY_MB must be at least 16 and below this machine's "
        f"memory ({_MACHINE_MB} MB)."
    )
SANDBOX_INTERNAL_NETWORKS = env.list("QUIVER_SANDBOX_INTERNAL_NETWORKS", default=[])
for _network in SANDBOX_INTERNAL_NETWORKS:
    try:
        ipaddress.IPv4Network(_network, strict=False)
    except ValueError as exc:
        raise environ.ImproperlyConfigured(
            f"QUIVER_SANDBOX_INTERNAL_NETWORKS: {_network!r} is not an IPv4 network ({exc})."
        ) from exc
SANDBOX_BLOCKED_HOSTS = [
    host
    for host in [
        DATABASES["default"].get("HOST"),
        urllib.parse.urlsplit(CELERY_BROKER_URL).hostname,
        urllib.parse.urlsplit(os.environ.get("CACHE_URL", "")).hostname,
        *env.list("QUIVER_SANDBOX_BLOCKED_HOSTS", default=[]),
    ]
    if host
]

# Uploads: import files are read in memory, within these bounds (catalog/formats/uploads).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
QUIVER_IMPORT_MAX_BYTES = env.int("QUIVER_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

QUIVER_DEFAULT_TENANT = env.str("QUIVER_DEFAULT_TENANT", default="default")
