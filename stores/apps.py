from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "stores"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from customers import privacy
        from customers.history import timeline_register
        from stores.history import STORE_LINKS
        from stores.privacy import StoresParticipant
        from stores.selectors import StoreReach
        from tenants.reach import register_store_reach

        timeline_register(STORE_LINKS)
        register_store_reach(StoreReach())
        privacy.register(StoresParticipant())  # export and erasure (customers/privacy.py)
        from customers.merging import register as merging_register
        from stores.merging import StoreLinks

        merging_register(StoreLinks())  # its records' part in merges (customers/merging.py)
