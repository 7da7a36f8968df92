"""The hub's URLs plus ``/bench/floor/<name>`` (tests/bench/floor.py)."""

from django.urls import path

from config.urls import urlpatterns as hub_urlpatterns
from tests.bench import floor

urlpatterns = [
    path("bench/floor/<str:name>", floor.FloorView.as_view(), name="bench-floor"),
    path("bench/floor/<str:name>/<str:arg>", floor.FloorView.as_view(), name="bench-floor-arg"),
    *hub_urlpatterns,
]
