"""Mounted at the root by config/urls.py: ``customers``, ``customers/bulk`` and
``customers/<customerId>/price-list``; nothing ends in a slash.

``bulk`` is routed before the ids, and the price-list route needs two segments, so ``bulk``
is never taken for a customer id.
"""

from stores.api import views
from tenants.api.viewsets import DialectRouter

router = DialectRouter()
router.register("customers", views.StoreCustomerViewSet, basename="store-customer")

urlpatterns = router.urls
