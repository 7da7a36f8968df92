"""The b2b dialect (seed 003), mounted at ``api/`` by config/urls.py: ``customers``,
``customers/<customer_id>`` (its contacts, orders, analytics and credit checks), ``orders``
and ``orders/<order_id>``. Ids are captured as strings: a malformed one is the dialect's 404."""

from b2b.api import views
from tenants.api.viewsets import DialectRouter

router = DialectRouter()
router.register("customers", views.CustomerViewSet, basename="b2b-customer")
router.register(
    "customers/<str:customer_id>/contacts", views.ContactViewSet, basename="b2b-contact"
)
router.register("orders", views.OrderViewSet, basename="b2b-order")

urlpatterns = router.urls
