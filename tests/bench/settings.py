"""Settings for the benchmark server: the production settings plus the floor endpoints.

The runner (bench/run.py) sets DJANGO_DEBUG=0 (no query log in memory), a throwaway secret
key and no TLS redirect/HSTS, since the benchmark talks plain HTTP on 127.0.0.1.
"""

import warnings

from config.settings import *  # noqa: F403

# The API serves no static files: no need for collectstatic before benchmarking. The admin's
# pages are measured as HTML (their static files are never requested): their static URLs need
# no manifest either.
warnings.filterwarnings("ignore", message="No directory at")
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

ROOT_URLCONF = "tests.bench.urls"
# `manage.py generate` (tests/bench/management/commands/generate.py)
INSTALLED_APPS = [*INSTALLED_APPS, "tests.bench"]  # noqa: F405
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# The benchmark sends far more than a client's hourly allowance from one credential (several
# runs in an hour exhausted it: 429s measured as throughput). The throttle still runs and
# counts every request, as in production; only its limit is out of reach.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],  # noqa: F405
        "api": "1000000000/hour",
    },
}
