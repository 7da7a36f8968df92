from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from config import db_adapters
        from tenants import checks, schema  # noqa: F401  (registers the checks and the OpenAPI auth extensions)

        db_adapters.install()
