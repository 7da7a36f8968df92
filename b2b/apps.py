from django.apps import AppConfig


class B2bConfig(AppConfig):
    name = "b2b"
    default_auto_field = "django.db.models.BigAutoField"
