"""Routes under ``/v1/<client_name>/peppered/`` (config/urls.py); every view gets
``client_name``. ``customerId`` is captured as a string so that a malformed id is the
dialect's own 404; ``customer/findByEmail`` is routed before the ids."""

from customers.api.peppered import views
from tenants.api.viewsets import DialectRouter

router = DialectRouter()
router.register("customer", views.CustomerViewSet, basename="peppered-customer")
router.register("export", views.ExportViewSet, basename="peppered-export")

urlpatterns = router.urls
