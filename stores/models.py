from django.conf import settings
from django.db import models

from tenants.history import tracked
from tenants.ids import uuid7
from tenants.models import TenantOwnedModel, TimeStampedModel


class Store(TenantOwnedModel):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=255)
    is_active = models.BooleanField(default=True)
    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="represented_store",
        help_text="The customer record that represents this store (created with it).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class StoreMembership(TimeStampedModel):
    """A user's active relation with a store (what an agent needs to reach it)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_memberships"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="memberships")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["store__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "store"], name="storemembership_unique"),
        ]

    def __str__(self):
        return f"{self.user} @ {self.store}"


class CustomerStore(models.Model):
    """A customer's link to a store; its price list is the store dialect's defaultPriceListId.

    Database triggers on this table (docs/decisions/kept-counts-and-copies.md):
    ``hub_count_store_links`` keeps the store's link count (stores/migrations/0003,
    PostgreSQL), ``hub_link_customer_names`` fills the copied names (stores/migrations/0004).
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="store_links"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="customer_links")
    price_list = models.ForeignKey(
        "pricelists.PriceList",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customer_links",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    customer_created_at = models.DateTimeField(
        editable=False,
        help_text=(
            "A copy of the customer's creation time (which never changes): the store's "
            "customer list is ordered by it, newest first, and the index on (store, "
            "customer_created_at, customer) serves any page of that list from the index."
        ),
    )
    customer_name = models.CharField(
        max_length=255,
        editable=False,
        default="",
        help_text=(
            "A copy of the customer's name, kept by the database (triggers of "
            "stores/migrations/0004): the store's search reads the store's links only."
        ),
    )
    customer_local_name = models.CharField(
        max_length=255,
        editable=False,
        default="",
        help_text="A copy of the customer's local name, kept like customer_name.",
    )

    #: the copies are the customer's, not the link's: not part of the link's history
    history = tracked(excluded_fields=["customer_name", "customer_local_name"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "customer store link"
        constraints = [
            models.UniqueConstraint(fields=["customer", "store"], name="customerstore_unique"),
        ]
        indexes = [
            models.Index(
                fields=["store", "customer_created_at", "customer"],
                name="customerstore_store_created",
            ),
        ]

    def __str__(self):
        return f"{self.customer} in {self.store}"

    def save(self, *args, **kwargs):
        if self.customer_created_at is None and self.customer_id is not None:
            self.customer_created_at = self.customer.created_at
        super().save(*args, **kwargs)
