"""LightTrace settings, all from the environment (django-environ).

Embedded default: SQLite in WAL mode under DATA_DIR and no Redis server (no broker either: the ingest
buffer is a table, and config/runner.py drains it and runs the schedule). With DATABASE_URL and
REDIS_URL set, PostgreSQL and Redis take over and any number of web and worker processes can run on
any number of machines.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()


def _env_or_file(name: str, default: str | None = None) -> str | None:
    """Secrets may come as NAME or as NAME_FILE (Docker/Kubernetes secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


# Everything LightTrace writes (database, WAL, secret key, sessions, events) is for its own user only:
# files 600 and the data directory 700, whatever the umask of the shell that started it.
os.umask(0o077)
DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
if DATA_DIR.stat().st_uid == os.getuid():
    DATA_DIR.chmod(0o700)  # also an existing directory made 755 by an earlier version
PORT = env.int("PORT", default=8000)
# `manage.py serve` writes the URL it serves on here, so that a command run later from another shell
# without PORT (`create_project` printing a DSN) names the port LightTrace really listens on.
SERVED_URL_FILE = DATA_DIR / "served-url"


def _default_url() -> str:
    if "PORT" not in os.environ and SERVED_URL_FILE.is_file():
        served = SERVED_URL_FILE.read_text().strip()
        if served.startswith(("http://", "https://")):
            return served
    return f"http://127.0.0.1:{PORT}"


LIGHTTRACE_URL = env.str("LIGHTTRACE_URL", default=_default_url()).rstrip("/")


def _secret_key() -> str:
    configured = _env_or_file("SECRET_KEY")
    if configured:
        return configured
    # A single-machine install keeps a generated key so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)
# Pages answer only to the public host (a forged Host header could otherwise steer redirects and
# API links elsewhere); SDK ingest does not look at the Host header at all.
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=[urlsplit(LIGHTTRACE_URL).hostname or "127.0.0.1", "127.0.0.1", "localhost", "[::1]"],
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[LIGHTTRACE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "accounts",
    "projects",
    "issues",
    "releases",
    "alerts",
    "usage",
    "logs",
    "feedback",
    "ingest",
    "core",
    "sourcemaps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security_headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.request_budget.RequestBudgetMiddleware",
]
# Longest a web request's database query may run (0: no bound); config/request_budget.py.
WEB_STATEMENT_TIMEOUT_SECONDS = env.float("WEB_STATEMENT_TIMEOUT_SECONDS", default=10.0)
# The web front (config/front.py): how long and how much a client may take to send a request, and the
# threads that run requests once they are whole (ingest and pages apart). README, Privacy and security.
WEB_FRONT = {
    "HEADER_SECONDS": env.float("WEB_HEADER_TIMEOUT_SECONDS", default=10.0),
    "BODY_START_SECONDS": env.float("WEB_BODY_TIMEOUT_SECONDS", default=10.0),
    "BODY_MIN_RATE": env.float("WEB_BODY_MIN_RATE", default=1000.0),
    "BODY_MAX_SECONDS": env.float("WEB_BODY_MAX_SECONDS", default=120.0),
    "MAX_BODY_BYTES": env.int("WEB_MAX_BODY_BYTES", default=32 * 1024 * 1024),
    "MAX_BUFFERED_BYTES": env.int("WEB_MAX_BUFFERED_BYTES", default=64 * 1024 * 1024),
    "MAX_CONNECTIONS": env.int("WEB_MAX_CONNECTIONS", default=1024),
    "PAGE_THREADS": env.int("WEB_PAGE_THREADS", default=4),
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "projects.navigation.navigation",
            ]
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'lighttrace.sqlite3'}")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE transactions avoid the
    # deadlock-prone read-then-upgrade lock pattern; secure_delete leaves no scrubbed-away bytes behind.
    _db["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            "PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Reusing connections saves a connect and five PRAGMAs per request.
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
else:
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    _db["CONN_HEALTH_CHECKS"] = True
    _db_password = _env_or_file("DATABASE_PASSWORD")
    if _db_password:
        _db["PASSWORD"] = _db_password

# --- Embedded default: the ingest buffer's own SQLite file (ingest/db_router.py) ---
# With the buffer in the main file, each SDK request waited for SQLite's one write lock behind the
# worker's batch transaction. `migrate` migrates both files. Tests on SQLite use files under DATA_DIR,
# so that locking behaves as in production (WAL, busy timeout).
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["TEST"] = {"NAME": str(DATA_DIR / "test-lighttrace.sqlite3")}
    DATABASES["buffer"] = {
        **_db,
        "NAME": str(DATA_DIR / "ingest-buffer.sqlite3"),
        "OPTIONS": dict(_db["OPTIONS"]),
        "TEST": {"NAME": str(DATA_DIR / "test-ingest-buffer.sqlite3")},
    }
    DATABASE_ROUTERS = ["ingest.db_router.BufferDatabaseRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = _env_or_file("REDIS_URL", default="") or ""
# Threads that run whole SDK requests (bodies arrive on the event loop first, so a slow client holds
# none). Embedded, each request is CPU and one SQLite write lock: one thread avoids GIL hand-offs
# (p99 at 32 connections 60 -> 47 ms, bench/run.py --only embedded); with Redis, requests wait on
# the network and threads overlap those waits.
WEB_FRONT["INGEST_THREADS"] = env.int("WEB_THREADS", default=4 if REDIS_URL else 1)
# The embedded runner's niceness (config/runner.py: it yields the CPU to the web process).
RUNNER_NICENESS = env.int("RUNNER_NICENESS", default=10)
# Every Redis key LightTrace writes starts with this, so installations can share one Redis server.
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="lighttrace")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
        "visibility_timeout": 3600,
        "global_keyprefix": f"{REDIS_KEY_PREFIX}:celery:",
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Where tasks ask for follow-up work (core/dispatch.py). Embedded there is no broker at all: events
# wait in the ingest buffer (a table), and config/runner.py drains it and runs CELERY_BEAT_SCHEDULE.
TASK_DISPATCH = "config.celery.CeleryDispatch" if REDIS_URL else "core.dispatch.LocalDispatch"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Alert tasks have a queue of their own, so an alert never waits behind a backlog of drain tasks
# (kombu takes from the queues in turn). A worker started without -Q consumes every queue listed.
CELERY_TASK_QUEUES = (Queue("celery", routing_key="celery"), Queue("alerts", routing_key="alerts"))
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"alerts.tasks.*": {"queue": "alerts"}}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# Celery beat's own scheduler plus a heartbeat for /_health/.
CELERY_BEAT_SCHEDULER = "config.celery:HeartbeatScheduler"
CELERY_BEAT_SCHEDULE = {
    # Safety net: picks up buffered events whose kick was lost and reclaims work of dead workers.
    # Embedded, the runner (config/runner.py) reads this schedule too and also drains on its own.
    "drain-ingest-buffer": {
        "task": "ingest.tasks.drain_ingest_buffer",
        "schedule": 2.0 if REDIS_URL else 0.5,
    },
    "flush-outcomes": {"task": "ingest.tasks.flush_outcomes", "schedule": 10.0},
    "expire-quota-counters": {"task": "ingest.tasks.expire_quota_counters", "schedule": 300.0},
    "train-payload-dictionaries": {"task": "issues.tasks.train_due_payload_dictionaries", "schedule": 3600.0},
    # Bounded per run; a backlog larger than one run's budget is continued by the next run.
    "cleanup-retention": {"task": "issues.tasks.cleanup_retention", "schedule": 600.0},
    # Assembly is kicked by the upload request; this picks up a lost kick or a job of a dead worker.
    "assemble-artifact-bundles": {"task": "sourcemaps.tasks.assemble_bundles", "schedule": 10.0},
    "cleanup-artifact-bundles": {"task": "sourcemaps.tasks.cleanup_artifact_bundles", "schedule": 3600.0},
    # Issue lifecycle: `new` -> `ongoing` after 3 days, ignores whose time is up (issues/lifecycle.py).
    "advance-issue-lifecycle": {"task": "issues.tasks.advance_lifecycle", "schedule": 60.0},
    "expire-issue-buckets": {"task": "issues.tasks.expire_issue_buckets", "schedule": 600.0},
    # Issues pending deletion whose task was lost (a killed worker); embedded, also how the web
    # process's deletions reach the runner (a wake-up datagram names this task).
    "delete-pending-issues": {"task": "issues.tasks.delete_issues", "schedule": 300.0},
    # Safety nets of the alert chain (batches ask for the outbox task at once; retries wait for this).
    "process-alert-outbox": {"task": "alerts.tasks.process_alert_outbox", "schedule": 5.0},
    "deliver-notifications": {"task": "alerts.tasks.deliver_notifications", "schedule": 5.0},
    "prune-alert-outbox": {"task": "alerts.tasks.prune_alert_outbox", "schedule": 3600.0},
    # Log partitions for the days ahead, and whole days past retention dropped (logs/tasks.py).
    "maintain-log-store": {"task": "logs.tasks.maintain_log_store", "schedule": 3600.0},
    # User reports about no stored event, past their project's retention (feedback/tasks.py).
    "expire-user-reports": {"task": "feedback.tasks.expire_user_reports", "schedule": 3600.0},
}

HEALTH = {
    # /_health/ answers 503 when no worker or no scheduler has written a heartbeat for this long...
    "MAX_SILENCE_SECONDS": env.int("HEALTH_MAX_SILENCE_SECONDS", default=30),
    # ...or when the oldest envelope waiting in the ingest buffer is older than this.
    "MAX_QUEUE_LAG_SECONDS": env.int("HEALTH_MAX_QUEUE_LAG_SECONDS", default=300),
}

INGEST = {
    "MAX_ENVELOPE_BYTES": env.int("INGEST_MAX_ENVELOPE_BYTES", default=20 * 1024 * 1024),
    "MAX_COMPRESSED_BYTES": env.int("INGEST_MAX_COMPRESSED_BYTES", default=20 * 1024 * 1024),
    "MAX_EVENT_BYTES": env.int("INGEST_MAX_EVENT_BYTES", default=1024 * 1024),
    "MAX_ATTACHMENT_BYTES": env.int("INGEST_MAX_ATTACHMENT_BYTES", default=20 * 1024 * 1024),
    # Embedded: smaller batches keep the threaded worker's peak memory (parsed events) in budget.
    "BATCH_SIZE": env.int("INGEST_BATCH_SIZE", default=200 if REDIS_URL else 50),
    "KEY_CACHE_SECONDS": env.int("INGEST_KEY_CACHE_SECONDS", default=30),
    "KICK_INTERVAL_SECONDS": env.float("INGEST_KICK_INTERVAL_SECONDS", default=0.05),
    "RECLAIM_IDLE_SECONDS": env.int("INGEST_RECLAIM_IDLE_SECONDS", default=120),
    # Envelopes waiting for workers before ingest sheds with 429 (~5 KB each in Redis); 0 = no bound.
    "MAX_QUEUE_DEPTH": env.int("INGEST_MAX_QUEUE_DEPTH", default=100_000),
}

QUOTAS = {
    # Events (errors and messages) an organization may send per calendar month; 0 = unlimited.
    # A free tier sets 5000. Organizations can override it one by one.
    "DEFAULT_MONTHLY_EVENTS": env.int("DEFAULT_MONTHLY_EVENT_QUOTA", default=0),
    # Per project key, per category, per minute; 0 = no default limit (keys can set their own).
    "KEY_RATE_LIMIT_PER_MINUTE": env.int("KEY_RATE_LIMIT_PER_MINUTE", default=0),
    "SPIKE_PROTECTION": env.bool("SPIKE_PROTECTION", default=True),
    "SPIKE_MULTIPLIER": env.float("SPIKE_MULTIPLIER", default=10.0),
    "SPIKE_MIN_PER_MINUTE": env.int("SPIKE_MIN_PER_MINUTE", default=1000),
}

PAYLOAD_DICTIONARY = {
    # Stored payloads are compressed with a zstd dictionary trained per project (~6x smaller).
    "ENABLED": env.bool("PAYLOAD_DICTIONARY", default=True),
    "MIN_EVENTS": env.int("PAYLOAD_DICTIONARY_MIN_EVENTS", default=500),
    "SAMPLES": 300,  # 100 to 2,000 samples gave the same ratio on the benchmark's events
    "SIZE": 64 * 1024,
    "MAX_AGE_DAYS": env.int("PAYLOAD_DICTIONARY_MAX_AGE_DAYS", default=7),
}

# CPU time one event may spend evaluating a project's own grouping rules (issues/grouping/budget.py);
# past it the event is grouped without them and the project's rules are suspended until saved again.
# Normal rules take 0.1-0.5 ms on a 15-frame event and 15 us a frame on long stack traces.
GROUPING_RULES_BUDGET = {
    "CPU_MS": env.float("GROUPING_RULES_BUDGET_MS", default=5.0),
    "CPU_MS_PER_FRAME": env.float("GROUPING_RULES_BUDGET_MS_PER_FRAME", default=0.05),
}

RETENTION = {
    # Defaults for new projects; each project can change both on its settings page.
    "EVENT_DAYS": env.int("EVENT_RETENTION_DAYS", default=90),
    # Bugsink's default: enough history to debug an issue, while a flood of one error cannot fill
    # the disk. Counts (times_seen, users, tags) stay exact whatever the cap keeps.
    "MAX_EVENTS_PER_ISSUE": env.int("MAX_EVENTS_PER_ISSUE", default=10_000),
}

SOURCEMAPS = {
    # Files under DATA_DIR/artifacts for one machine; the database when web and workers are several
    # machines sharing PostgreSQL.
    "BLOB_STORE": env.str(
        "SOURCEMAP_STORAGE",
        default="sourcemaps.storage.DatabaseBlobStore"
        if env.str("DATABASE_URL", default="").startswith("postgres")
        else "sourcemaps.storage.FileBlobStore",
    ),
    # What GET chunk-upload/ announces to sentry-cli (Sentry's own values) and enforces.
    "CHUNK_BYTES": 8 * 1024 * 1024,
    "CHUNKS_PER_REQUEST": 64,
    "MAX_REQUEST_BYTES": 32 * 1024 * 1024,
    "MAX_BUNDLE_BYTES": env.int("SOURCEMAP_MAX_BUNDLE_BYTES", default=200 * 1024 * 1024),
    "MAX_FILES": 20_000,
    # One minified file or source map inside a bundle (the worker holds it parsed in memory).
    "MAX_FILE_BYTES": env.int("SOURCEMAP_MAX_FILE_BYTES", default=50 * 1024 * 1024),
    # Bundles plus not yet assembled chunks per organization; 0 = unlimited.
    "ORG_QUOTA_BYTES": env.int("SOURCEMAP_ORG_QUOTA_BYTES", default=5 * 1024 * 1024 * 1024),
    # Days after its last use by an event that a bundle is deleted (Sentry's 90).
    "RETENTION_DAYS": env.int("SOURCEMAP_RETENTION_DAYS", default=90),
    # Parsed source maps kept per worker process: at most this many, of this many input bytes.
    "CACHE_ENTRIES": env.int("SOURCEMAP_CACHE_ENTRIES", default=64),
    "CACHE_BYTES": env.int("SOURCEMAP_CACHE_BYTES", default=128 * 1024 * 1024),
}

ALERTS = {
    # Alerts per project and clock hour; past it, fires are held and the team gets one summary mail.
    "MAX_PER_PROJECT_PER_HOUR": env.int("ALERTS_MAX_PER_PROJECT_PER_HOUR", default=30),
    # Webhooks to loopback, private, link-local (metadata) addresses are refused unless this is set.
    "WEBHOOK_ALLOW_PRIVATE": env.bool("ALERT_WEBHOOK_ALLOW_PRIVATE", default=False),
    # A worker killed mid-send holds its notification this long, then another sends it.
    "DELIVERY_LEASE_SECONDS": env.int("ALERT_DELIVERY_LEASE_SECONDS", default=120),
    # apprise actions to hosts named in the URL (json://, ntfy://HOST, gotify://): off, see alerts/apprise_send.py.
    "APPRISE_SELF_HOSTED": env.bool("ALERT_APPRISE_SELF_HOSTED", default=False),
}
LOGS = {
    # Days a project keeps its structured log records unless it has its own (logs.LogRetention).
    "RETENTION_DAYS": env.int("LOG_RETENTION_DAYS", default=30),
    # Day partitions (PostgreSQL) the scheduler creates ahead of time.
    "PARTITION_DAYS_AHEAD": 3,
}
# The log store's backend (logs/store.py): the engine of the main database.
LOG_STORE = (
    "logs.backends.postgres.PostgresLogStore"
    if _db["ENGINE"].endswith("postgresql")
    else "logs.backends.sqlite.SqliteLogStore"
)

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="lighttrace@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A mail server that accepts the connection and then stalls must not hold a web thread for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT_SECONDS", default=10)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Password reset links are valid for this long (Django's default is 3 days).
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
SESSION_COOKIE_SECURE = LIGHTTRACE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Browsers that once saw LightTrace over https refuse plain http to it for a year (sent on https only).
SECURE_HSTS_SECONDS = 31_536_000 if LIGHTTRACE_URL.startswith("https://") else 0
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_HTTPS_PROXY", default=False) else None
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "/static/"
# whitenoise serves the admin's and our static files straight from the installed packages, in the
# embedded default and behind any proxy alike: nothing to collect at install time, nothing written.
STATIC_ROOT = None
STATICFILES_DIRS = [BASE_DIR / "config" / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_MAX_AGE = 3600

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}, "celery": {"level": "WARNING"}},
}
