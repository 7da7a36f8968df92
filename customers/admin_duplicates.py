"""Duplicates in the back office (issue 20): the "Possible duplicates" section of the
customer 360 page and the review queue (``DuplicatePair``), whose Dismiss action goes through
``duplicate_pair_dismiss``. Registered by customers/admin.py; docs/duplicates.md."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from customers.admin import Panel, customer_admin_extend
from customers.admin_merge import merge_start_url
from customers.duplicates import duplicate_candidates, duplicate_pair_dismiss, reason_label
from customers.models import Customer, DuplicatePair
from tenants.admin_scoping import TenantScopedAdmin

#: candidates shown on the 360 page
PANEL_LIMIT = 10


def compare_url(customer: Customer, other_id: int) -> str:
    """Where "Compare / merge" leads: the merge screen with the two records side by side and
    the preview (customers/admin_merge.py)."""
    return f"{reverse('admin:customers_merge_start', args=[customer.pk])}?other={other_id}"


def may_merge(request, customer: Customer) -> bool:
    """Whether the user may merge ``customer`` (agents and admins): viewers get no link."""
    return merge_start_url(request, customer) is not None


def customer_360_url(customer_id: int) -> str:
    return reverse("admin:customers_customer_360", args=[customer_id])


def duplicates_panel(request, customer) -> dict:
    candidates = duplicate_candidates(customer=customer, limit=PANEL_LIMIT)
    mergeable = bool(candidates) and may_merge(request, customer)
    return {
        "candidates": [
            {
                "candidate": candidate,
                "reasons": [
                    {"label": reason_label(r["code"]), "code": r["code"], "detail": r["detail"]}
                    for r in candidate.reasons
                ],
                "url": customer_360_url(candidate.customer_id),
                "compare_url": compare_url(customer, candidate.customer_id) if mergeable else None,
            }
            for candidate in candidates
        ],
        "queue_url": reverse("admin:customers_duplicatepair_changelist"),
    }


customer_admin_extend(
    panels=[
        Panel(
            "Possible duplicates",
            "admin/customers/customer/panels/duplicates.html",
            duplicates_panel,
            5,
        )
    ]
)


@admin.register(DuplicatePair)
class DuplicatePairAdmin(TenantScopedAdmin):
    """The review queue: what ``manage.py find_duplicates`` found, best first. Agents and
    admins dismiss; viewers read."""

    list_display = (
        "first_customer",
        "second_customer",
        "compare",
        "score",
        "reason_list",
        "status",
        "found_at",
        "decided_by",
        "decided_at",
    )
    list_display_links = None

    def get_list_display(self, request):
        # the merge screen is for agents and admins: a viewer's queue has no link to it
        shown = super().get_list_display(request)
        if not self.has_change_permission(request):
            return tuple(column for column in shown if column != "compare")
        return shown

    list_filter = ("status",)
    list_select_related = ("customer_a", "customer_b", "decided_by")
    fields = (
        "customer_a",
        "customer_b",
        "score",
        "reason_list",
        "status",
        "found_at",
        "decided_by",
        "decided_at",
    )
    readonly_fields = fields
    actions = ["dismiss"]
    ordering = ("-score", "id")

    def has_add_permission(self, request):
        return False  # the finder fills the queue

    def has_change_permission(self, request, obj=None):
        """A pair is never edited (its page is read-only); the role's change permission on
        the queue is what the Dismiss action needs, checked per tenant by the scoping."""
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # a deleted pair would be found again: dismiss it instead

    def save_model(self, request, obj, form, change):
        # never called (a pair's page is read-only): a pair changes by duplicate_pair_dismiss
        raise PermissionDenied("A pair is decided with the Dismiss action.")

    @admin.display(description="customer", ordering="customer_a")
    def first_customer(self, obj):
        return format_html(
            '<a href="{}">{}</a>', customer_360_url(obj.customer_a_id), obj.customer_a
        )

    @admin.display(description="possible duplicate", ordering="customer_b")
    def second_customer(self, obj):
        return format_html(
            '<a href="{}">{}</a>', customer_360_url(obj.customer_b_id), obj.customer_b
        )

    @admin.display(description="reasons")
    def reason_list(self, obj):
        return format_html_join(
            "",
            '<div title="{}">{}: {}</div>',
            ((r["code"], reason_label(r["code"]), r["detail"]) for r in obj.reasons),
        )

    @admin.display(description="")
    def compare(self, obj):
        return format_html(
            '<a class="duplicate-compare" href="{}">Compare / merge</a>',
            compare_url(obj.customer_a, obj.customer_b_id),
        )

    @admin.action(description="Dismiss: not the same person", permissions=["change"])
    def dismiss(self, request, queryset):
        count = 0
        for pair in queryset:
            duplicate_pair_dismiss(pair=pair, by=request.user)
            count += 1
        self.message_user(
            request,
            f"{count} pair(s) dismissed: they will not be proposed again.",
            messages.SUCCESS,
        )
