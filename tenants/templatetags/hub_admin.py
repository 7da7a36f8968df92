"""Template tags of the back-office (the admin index's per-tenant overview)."""

from django import template

from tenants.admin_scoping import tenant_overview as build_overview

register = template.Library()


@register.simple_tag(takes_context=True)
def tenant_overview(context):
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return {"labels": [], "rows": []}
    return build_overview(request)
