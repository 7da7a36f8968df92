"""Mounted at ``api/`` by config/urls.py: the collection is ``data/customer``, everything
else hangs under ``data/customer/<id>`` (nothing ends in a slash). ``id`` is captured as a
string so that a malformed id is the dialect's own 404; an ``addressId`` may hold slashes."""

from customers.api.data import views
from tenants.api.viewsets import DialectRouter

router = DialectRouter()
router.register("data/customer", views.CustomerViewSet, basename="data-customer")
router.register("data/customer/<str:id>/address", views.AddressViewSet, basename="data-address")

urlpatterns = router.urls
