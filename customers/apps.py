from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from customers import duplicates, merging, privacy
        from tenants.housekeeping import register_chore

        privacy.register_payload()  # customer.redacted's data (tenants.events)
        privacy.register(merging.MergesPrivacy())  # a person's merges, exported and redacted
        privacy.register(duplicates.DuplicatesPrivacy())  # and their pairs in the review queue
        register_chore("privacy_retention", privacy.retention_chore)
