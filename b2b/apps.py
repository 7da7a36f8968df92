from django.apps import AppConfig


class B2bConfig(AppConfig):
    name = "b2b"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from b2b import events
        from b2b.history import SOURCES
        from b2b.privacy import B2bParticipant
        from customers import privacy
        from customers.history import timeline_register

        for source in SOURCES:
            timeline_register(source)
        events.register()  # the change events' payloads (tenants.events)
        privacy.register(B2bParticipant())  # export and erasure (customers/privacy.py)
        from b2b.merging import B2bRecords
        from customers.merging import register as merging_register

        merging_register(B2bRecords())  # its records' part in merges (customers/merging.py)
