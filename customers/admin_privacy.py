"""The 360° page's privacy actions (customers/privacy.py, docs/privacy.md): export the
customer's data (admins and agents of its tenant; recorded) and erase it (admins only,
after a confirmation page). Wired into ``CustomerAdmin`` by ``privacy_urls`` and a 360 panel."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from customers import privacy
from customers.models import Customer
from tenants import errors
from tenants.admin_scoping import admin_roles
from tenants.models import Role

EXPORTERS = frozenset({Role.ADMIN.value, Role.AGENT.value})  # plain values: an enum hashes by name


def role_for(request, customer: Customer) -> str | None:
    roles = admin_roles(request)
    return Role.ADMIN if roles is None else roles.get(customer.tenant_id)


def may_export(request, customer: Customer) -> bool:
    return role_for(request, customer) in EXPORTERS


def may_erase(request, customer: Customer) -> bool:
    return role_for(request, customer) == Role.ADMIN


def _live(model_admin, request, object_id) -> Customer:
    customer = model_admin.get_scoped_object(request, object_id)
    if customer.erased_at is not None or customer.merged_into_id is not None:
        raise PermissionDenied  # a tombstone has nothing to export or erase
    return customer


def export_view(model_admin, request, object_id):
    customer = _live(model_admin, request, object_id)
    if request.method != "POST" or not may_export(request, customer):
        raise PermissionDenied
    bundle = privacy.customer_bundle(customer)
    privacy.customer_export_record(
        customer=customer, via="admin", rows=privacy.export_rows(customer)
    )
    import io

    return FileResponse(
        io.BytesIO(bundle),
        as_attachment=True,
        filename=f"customer-{customer.uuid}.zip",
        content_type="application/zip",
    )


def erase_view(model_admin, request, object_id):
    customer = _live(model_admin, request, object_id)
    if not may_erase(request, customer):
        raise PermissionDenied
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            receipt = privacy.customer_erase(
                customer=customer, include_user=request.POST.get("include_user") == "on"
            )
        except errors.DomainError as exc:
            model_admin.message_user(request, exc.message, messages.ERROR)
        else:
            model_admin.message_user(
                request,
                f"Customer {receipt.customer_uuid} erased (receipt {receipt.pk}).",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:customers_customer_changelist"))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Erase this customer?",
        "customer": customer,
        "has_user": customer.user_id is not None,
    }
    return TemplateResponse(request, "admin/customers/customer/erase_confirm.html", context)


def privacy_urls(model_admin) -> list:
    """The export and erase routes of ``CustomerAdmin`` (admin_view: staff only, CSRF)."""
    site = model_admin.admin_site
    return [
        path(
            "<path:object_id>/privacy/export/",
            site.admin_view(
                lambda request, object_id: export_view(model_admin, request, object_id)
            ),
            name="customers_customer_privacy_export",
        ),
        path(
            "<path:object_id>/privacy/erase/",
            site.admin_view(lambda request, object_id: erase_view(model_admin, request, object_id)),
            name="customers_customer_privacy_erase",
        ),
    ]


def privacy_panel(request, customer: Customer) -> dict:
    """The 360 page's privacy section: what this user may do, and past erasures."""
    live = customer.erased_at is None and customer.merged_into_id is None
    return {
        "may_export": live and may_export(request, customer),
        "may_erase": live and may_erase(request, customer),
        "erased_at": customer.erased_at,
    }
