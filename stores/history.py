"""The store links' part of the customer timeline (customers/history.py), registered by
``StoresConfig.ready``."""

from customers.history import TimelineSource
from stores.models import CustomerStore

STORE_LINKS = TimelineSource(
    key="store_link",
    model=CustomerStore,
    customer_field="customer_id",
    title=lambda record, label: f"Link to store '{label('store')}'",
    object_id=lambda record: str(record.id),
    exclude=frozenset({"customer"}),
    store_field="store_id",
)
