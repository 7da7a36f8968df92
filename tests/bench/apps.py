from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark's data generator (``manage.py generate``), installed only by
    tests/bench/settings.py: it ships in no package (pyproject.toml installs the apps only)."""

    name = "tests.bench"
    label = "bench"
