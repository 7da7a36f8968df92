"""Settings for the benchmark server: the production settings plus the floor endpoints.

The runner (bench/run.py) sets DJANGO_DEBUG=0 (no query log in memory), a throwaway secret
key and no TLS redirect/HSTS, since the benchmark talks plain HTTP on 127.0.0.1.
"""

import warnings

from config.settings import *  # noqa: F403

# The API serves no static files: no need for collectstatic before benchmarking.
warnings.filterwarnings("ignore", message="No directory at")

ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
