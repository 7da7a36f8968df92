from django.apps import AppConfig


class PricelistsConfig(AppConfig):
    name = "pricelists"
    default_auto_field = "django.db.models.BigAutoField"
