from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config.views import RedocView, SwaggerView, healthz, metrics, readyz
from tenants.admin_login import AdminLoginForm

admin.site.site_header = "Customer hub back-office"
admin.site.site_title = "Customer hub"
admin.site.index_title = "Customers, stores and orders"
admin.site.login_form = AdminLoginForm  # the API's login rates and lockout

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("api/auth/", include("tenants.api.urls")),
    # the hub's own API (tenants/api/hub.py): each app's routes under one prefix
    path("api/hub/", include("customers.api.hub.urls")),
    path("api/hub/", include("tenants.api.hub_urls")),
    path("api/", include("customers.api.data.urls")),  # data/customer…
    path("v1/<str:client_name>/peppered/", include("customers.api.peppered.urls")),
    path("", include("stores.api.urls")),  # customers…
    path("api/", include("b2b.api.urls")),  # customers…, orders…
]

# Prometheus metrics (tenants/metrics.py): not routed at all unless HUB_METRICS is on.
if settings.HUB_METRICS:
    urlpatterns.append(path("metrics", metrics, name="metrics"))
