"""The B2B account's, contacts' and orders' part of the customer timeline
(customers/history.py), registered by ``B2bConfig.ready``."""

from b2b.models import Account, Contact, SalesOrder
from customers.history import TimelineSource

SOURCES = (
    TimelineSource(
        key="account",
        model=Account,
        customer_field="customer_id",
        title=lambda record, label: "B2B account",
    ),
    TimelineSource(
        key="contact",
        model=Contact,
        customer_field="customer_id",
        title=lambda record, label: f"Contact '{record.name}'",
        object_id=lambda record: str(record.id),
        exclude=frozenset({"customer"}),
    ),
    TimelineSource(
        key="order",
        model=SalesOrder,
        customer_field="customer_id",
        title=lambda record, label: f"Order {record.order_number}",
        object_id=lambda record: str(record.id),
        exclude=frozenset({"customer", "tenant"}),
    ),
)
