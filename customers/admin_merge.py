"""The back-office's merges (issue 20 item 6; docs/merge.md).

- The merge screen (``admin:customers_merge_start``, "Merge with…" on a customer's 360° page):
  the other customer by its id, its peppered id or a search; the two records side by side
  with ``merge_preview`` (which value survives and why, what moves, what blocks) and a choice
  per field; the merge itself through ``customer_merge``.
- The merge history (the ``Merge`` change list and pages, read-only) with an Undo button,
  confirmed on a page of its own, through ``merge_undo``.

Agents and admins only: the ``customers.merge`` permissions of tenants/roles.py, in the
tenant of the customers concerned.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from customers.merging import MERGE_FIELDS, customer_merge, merge_preview, merge_undo
from customers.models import LIVE, Customer, Merge
from tenants import errors
from tenants.admin_scoping import TenantScopedAdmin, scope_rows
from tenants.ids import parse_uuid

#: candidates a search on the merge screen lists at most
CANDIDATES = 20


def _actor_text(actor: dict | None) -> str:
    if not actor:
        return "-"
    kind = {"user": "user", "api_key": "API key"}.get(actor.get("type"), "system")
    return f"{actor.get('name', '')} ({kind}, {actor.get('origin', '')})"


def _customer_link(customer: Customer):
    url = reverse("admin:customers_customer_360", args=[customer.pk])
    state = " (merged away)" if customer.merged_into_id else ""
    return format_html('<a href="{}">{}</a>{}', url, customer, state)


def _value_text(value) -> str:
    if value is None or value == "":
        return "—"
    return str(value)


@admin.register(Merge)
class MergeAdmin(TenantScopedAdmin):
    list_display = ("merged_at", "survivor_link", "merged_link", "who", "undone")
    list_select_related = ("survivor", "merged", "tenant")
    ordering = ("-merged_at", "-id")
    fields = (
        "id",
        "tenant",
        "survivor_link",
        "merged_link",
        "who",
        "merged_at",
        "choices",
        "record_text",
        "undone_at",
        "undone_by_text",
        "problems_text",
        "undo_button",
    )
    readonly_fields = fields

    # read-only pages: merges are made by the merge screen, undone by the Undo button (the
    # "change" permission), never edited nor deleted
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def may_undo(self, request, merge: Merge) -> bool:
        """Whether the user may undo ``merge`` (agents, admins of its tenant)."""
        return (
            self._allowed(request)
            and request.user.has_perm(self.perm("change"))
            and self.role_allows(request, merge, "change")
        )

    def may_merge(self, request, customer: Customer) -> bool:
        """Whether the user may merge customers of ``customer``'s tenant (agents, admins)."""
        return (
            self._allowed(request)
            and request.user.has_perm(self.perm("add"))
            and self.role_allows(request, customer, "add")
        )

    @admin.display(description="Survivor")
    def survivor_link(self, obj):
        return _customer_link(obj.survivor)

    @admin.display(description="Merged")
    def merged_link(self, obj):
        return _customer_link(obj.merged)

    @admin.display(description="Who")
    def who(self, obj):
        return _actor_text(obj.actor)

    @admin.display(description="Undone", boolean=True)
    def undone(self, obj):
        return obj.undone_at is not None

    @admin.display(description="Field choices")
    def choices(self, obj):
        return ", ".join(f"{k}: {v}" for k, v in obj.fields.items()) or "(defaults)"

    @admin.display(description="What moved")
    def record_text(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.record, indent=2, sort_keys=True))

    @admin.display(description="Undone by")
    def undone_by_text(self, obj):
        return _actor_text(obj.undone_by)

    @admin.display(description="Not restored by the undo")
    def problems_text(self, obj):
        if not obj.problems:
            return "-"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((p,) for p in obj.problems))
        )

    @admin.display(description="Undo")
    def undo_button(self, obj):
        if obj.undone_at is not None:
            return "Undone."
        url = reverse("admin:customers_merge_undo", args=[obj.pk])
        return format_html('<a class="button" id="merge-undo" href="{}">Undo this merge…</a>', url)

    # -- the merge screen and the undo -------------------------------------------------------------
    def get_urls(self):
        return [
            path(
                "start/<path:customer_id>/",
                self.admin_site.admin_view(self.merge_view),
                name="customers_merge_start",
            ),
            path(
                "<path:object_id>/undo/",
                self.admin_site.admin_view(self.undo_view),
                name="customers_merge_undo",
            ),
            *super().get_urls(),
        ]

    def _customer(self, request, customer_id) -> Customer:
        customer = (
            scope_rows(Customer.objects.select_related("tenant"), request, "tenant")
            .filter(pk=customer_id if str(customer_id).isdigit() else None)
            .first()
        )
        if customer is None:
            raise Http404("No such customer.")
        return customer

    def _other(self, customer: Customer, query: str) -> tuple[Customer | None, list[Customer]]:
        """The other customer named by ``query`` (its id, peppered id or a search) in the
        same tenant: one, or the candidates of a search."""
        live = Customer.objects.filter(LIVE, tenant_id=customer.tenant_id).exclude(pk=customer.pk)
        uid = parse_uuid(query)
        if uid is not None:
            return live.filter(uuid=uid).first(), []
        if query.isdigit():
            return live.filter(pk=int(query)).first(), []
        found = list(
            live.filter(
                Q(name__icontains=query)
                | Q(email__icontains=query)
                | Q(local_name__icontains=query)
            ).order_by("pk")[: CANDIDATES + 1]
        )
        if len(found) == 1:
            return found[0], []
        return None, found

    def merge_view(self, request, customer_id):
        customer = self._customer(request, customer_id)
        if not self.may_merge(request, customer):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else request.GET
        query = (data.get("other") or "").strip()
        other, candidates = self._other(customer, query) if query else (None, [])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Merge {customer} with another customer",
            "customer": customer,
            "query": query,
            "other": other,
            "candidates": candidates[:CANDIDATES],
            "more_candidates": len(candidates) > CANDIDATES,
            "searched": bool(query),
        }
        if other is not None:
            keep_other = data.get("keep") == "other"
            survivor, merged = (other, customer) if keep_other else (customer, other)
            chosen = {
                field: data[f"field_{field}"]
                for field in MERGE_FIELDS
                if data.get(f"field_{field}") in ("survivor", "merged")
            }
            try:
                default = merge_preview(survivor=survivor, merged=merged)
                # only the choices that differ from the defaults are the merge's choices
                defaults = {row["field"]: row["from"] for row in default["fields"]}
                choices = {f: side for f, side in chosen.items() if defaults[f] != side}
                preview = merge_preview(survivor=survivor, merged=merged, fields=choices)
            except errors.DomainError as exc:
                messages.error(request, exc.message)
                return TemplateResponse(request, "admin/customers/merge/merge.html", context)
            if request.method == "POST" and data.get("action") == "merge":
                try:
                    merge = customer_merge(survivor=survivor, merged=merged, fields=choices)
                except errors.DomainError as exc:
                    messages.error(request, exc.message)
                else:
                    messages.success(
                        request, f"Merged {merged} into {survivor}. The merge can be undone here."
                    )
                    return HttpResponseRedirect(
                        reverse("admin:customers_merge_change", args=[merge.pk])
                    )
            context.update(
                survivor=survivor,
                merged=merged,
                keep_other=keep_other,
                preview=preview,
                rows=[
                    {
                        **row,
                        "survivor_text": _value_text(row["survivor"]),
                        "merged_text": _value_text(row["merged"]),
                    }
                    for row in preview["fields"]
                ],
                moves_text=json.dumps(preview["moves"], indent=2, sort_keys=True),
            )
        return TemplateResponse(request, "admin/customers/merge/merge.html", context)

    def undo_view(self, request, object_id):
        merge = self.get_object(request, object_id)
        if merge is None:
            raise Http404("No such merge.")
        if not self.may_undo(request, merge):
            raise PermissionDenied
        change_url = reverse("admin:customers_merge_change", args=[merge.pk])
        if request.method == "POST":
            try:
                merge = merge_undo(merge=merge)
            except errors.DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request, f"Undid the merge of {merge.merged} into {merge.survivor}."
                )
                for problem in merge.problems:
                    messages.warning(request, f"Not restored: {problem}")
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Undo this merge?",
            "merge": merge,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/customers/merge/undo_confirm.html", context)


def merge_start_url(request, customer: Customer) -> str | None:
    """The merge screen's address for ``customer`` when the user may merge it, else None
    (the 360° page's "Merge with…")."""
    merge_admin = admin.site._registry.get(Merge)
    if (
        merge_admin is None
        or customer.merged_into_id
        or not merge_admin.may_merge(request, customer)
    ):
        return None
    return reverse("admin:customers_merge_start", args=[customer.pk])
