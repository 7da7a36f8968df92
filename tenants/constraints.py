"""What each named database constraint means, in a sentence a person can act on.

Every ``Meta.constraints`` entry of the hub's models has a line here (tests/test_admin_roles.py
checks that none is missing): the field it is about, when it is about one, and the sentence.
The back-office shows these sentences instead of Django's 'Constraint "…" is violated.'
(``translate_form_errors``, for the admin's model validation) and instead of a database error
when a write races past validation (``integrity_message``). Names are plain strings, so the
shared kernel needs no import of the apps that declare the constraints.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models

#: constraint name -> (the field it is about or None, the sentence)
MESSAGES: dict[str, tuple[str | None, str]] = {
    # tenants
    "tenant_slug_format": (
        "slug",
        "Use lowercase letters, digits and hyphens (not at either end).",
    ),
    "tenant_default_region_format": (
        "default_region",
        "Use a two-letter region code in capitals, such as US or NL, or nothing.",
    ),
    "membership_unique_user_tenant": ("user", "This user is already a member of this tenant."),
    "membership_role_valid": ("role", "The role must be admin, agent or viewer."),
    "apikey_role_valid": ("role", "An API key is an agent or a viewer."),
    "idempotency_unique_scope_key": (None, "This idempotency key has already been used."),
    "idempotency_state_valid": ("state", "The state must be started or completed."),
    "webhookendpoint_disabled_at_iff_disabled": (
        "enabled",
        "A disabled endpoint has the time it was disabled, an enabled one has none.",
    ),
    "webhookendpoint_previous_secret_expires": (
        None,
        "A previous signing secret needs the time it stops signing.",
    ),
    "webhookendpoint_secret_present": (None, "An endpoint needs a signing secret."),
    "webhookdelivery_unique": (None, "This event already has a delivery to this endpoint."),
    "webhookdelivery_status_valid": ("status", "The status must be pending, delivered or failed."),
    "webhookdelivery_delivered_at": (
        "delivered_at",
        "A delivered delivery has its delivery time, and only then.",
    ),
    "webhookattempt_excerpt_capped": (
        "response_excerpt",
        "The response excerpt is at most 1,000 characters.",
    ),
    "webhookfanout_single": (None, "There is one fan-out position."),
    # customers
    "clienttype_unique_name": ("name", "This tenant already has a client type with this name."),
    "customer_unique_discord_id": (
        "discord_id",
        "A customer with this Discord id already exists.",
    ),
    "customer_unique_email_ci": ("email", "The email has already been taken."),
    "customer_unique_user": ("user", "This user is already linked to another customer."),
    "customer_not_merged_into_itself": (None, "A customer cannot be merged into itself."),
    "identifier_unique_value": (
        "value",
        "This identifier already names another customer of this tenant.",
    ),
    "identifier_kind_valid": (
        "kind",
        "The kind must be email, discord, user, external or phone.",
    ),
    "identifier_value_not_blank": ("value", "An identifier needs a value."),
    "merge_one_open_per_merged": (
        "merged",
        "This customer is already merged into another customer (undo that merge first).",
    ),
    "merge_not_with_itself": ("merged", "A customer cannot be merged with itself."),
    "customerexport_status_valid": (
        "status",
        "The status must be queued, ready, delivered, failed or expired.",
    ),
    "customerexport_bundle_only_when_ready": (
        "bundle",
        "An export keeps its bundle only while it is ready to download.",
    ),
    "erasurereceipt_one_per_customer": (
        "customer_pk",
        "This customer was already erased.",
    ),
    "customer_source_valid": (
        "source",
        "The source must be Discord, Email, Manual, Store, User or API.",
    ),
    "customer_credit_range": ("credit", "Credit must be between -100,000,000 and 100,000,000."),
    "address_unique_key": (
        "key",
        "An address with this addressId already exists for this customer.",
    ),
    "duplicatepair_unique": (None, "These two customers are already a pair in the review queue."),
    "duplicatepair_ordered": (None, "A pair names two different customers, the older first."),
    "duplicatepair_score_range": ("score", "The score is between 0 and 100."),
    "duplicatepair_status_valid": ("status", "The status must be open, dismissed or merged."),
    # pricelists
    "product_unique_sku": ("sku", "This tenant already has a product with this SKU."),
    "product_price_gte_0": ("base_price", "The base price must be 0 or more."),
    "pricelist_currency_iso": (
        "currency",
        "The currency must be an ISO 4217 code of three capital letters, such as USD.",
    ),
    "pricelistitem_unique_product": ("product", "This price list already prices this product."),
    "pricelistitem_price_gte_0": ("price", "The price must be 0 or more."),
    # stores
    "storemembership_unique": ("user", "This user already has a relation with this store."),
    "customerstore_unique": ("store", "This customer is already linked to this store."),
    # b2b
    "account_payment_terms_valid": (
        "payment_terms",
        "The payment terms must be one of due on receipt, net 7, 15, 30, 45, 60 or 90.",
    ),
    "account_currency_iso": (
        "currency",
        "The currency must be an ISO 4217 code of three capital letters, such as USD.",
    ),
    "account_credit_gte_0": ("credit_limit", "The credit limit must be 0 or more."),
    "account_discount_0_100": ("discount_rate", "The discount rate must be between 0 and 100."),
    "contact_one_primary_per_customer": (
        "is_primary",
        "At most one contact can be primary.",
    ),
    "ordersequence_unique": (None, "Another order took this number at the same time; retry."),
    "salesorder_unique_number": (
        "order_number",
        "This tenant already has an order with this number.",
    ),
    "salesorder_status_valid": (
        "status",
        "The status must be draft, confirmed, shipped, delivered or cancelled.",
    ),
    "salesorder_total_gte_0": ("total_amount", "The order total must be 0 or more."),
    "salesorder_currency_iso": (
        "currency",
        "The currency must be an ISO 4217 code of three capital letters, such as USD.",
    ),
    "orderline_quantity_gt_0": ("quantity", "The quantity must be greater than 0."),
    "orderline_price_gte_0": ("unit_price", "The unit price must be 0 or more."),
    "creditcheck_score_300_850": ("credit_score", "A credit score is between 300 and 850."),
}

FALLBACK = "The change conflicts with existing data."


def named_constraints(app_labels) -> list[tuple[type[models.Model], models.BaseConstraint]]:
    """Every ``Meta.constraints`` entry of the models of ``app_labels``."""
    return [
        (model, constraint)
        for model in apps.get_models()
        if model._meta.app_label in app_labels
        for constraint in model._meta.constraints
    ]


def _constraint_of(model, error: ValidationError) -> str | None:
    """The name of ``model``'s constraint that Django's model validation raised ``error`` for."""
    params = error.params or {}
    check = params.get("unique_check")
    for constraint in model._meta.constraints:
        if check is not None and tuple(getattr(constraint, "fields", ())) == tuple(check):
            return constraint.name
        if error.message == constraint.get_violation_error_message():
            return constraint.name
    return None


def translate_form_errors(form) -> None:
    """Replace the model-validation errors of ``form`` (a ModelForm, after ``_post_clean``)
    that name a constraint by the constraint's sentence, on its field when the form has it."""
    model = form._meta.model
    moves = []
    for key, error_list in list(form._errors.items()):
        kept = []
        for error in error_list.as_data():
            name = _constraint_of(model, error)
            if name in MESSAGES:
                field, sentence = MESSAGES[name]
                target = field if field in form.fields else NON_FIELD_ERRORS
                moves.append((target, ValidationError(sentence, code=name)))
            else:
                kept.append(error)
        if len(kept) != len(error_list):
            if kept:
                form._errors[key] = form.error_class(kept, renderer=form.renderer)
            else:
                del form._errors[key]
    for target, error in moves:
        form.add_error(None if target == NON_FIELD_ERRORS else target, error)


def integrity_message(exc: IntegrityError) -> tuple[str | None, str]:
    """``(field, sentence)`` of the constraint ``exc`` violates (the fallback when unknown).

    PostgreSQL names the constraint; SQLite names check constraints and expression indexes,
    and lists ``table.column`` for the others."""
    from tenants.roles import HUB_APPS

    diag = getattr(exc.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    text = str(exc)
    for model, constraint in named_constraints(HUB_APPS):
        if constraint.name not in MESSAGES:
            continue
        if name is not None:
            found = name == constraint.name
        else:
            table = model._meta.db_table
            columns = [
                f"{table}.{model._meta.get_field(f).column}"
                for f in getattr(constraint, "fields", ())
            ]
            listed = text.partition(":")[2].strip().split(", ")
            found = constraint.name in text or (bool(columns) and sorted(listed) == sorted(columns))
        if found:
            return MESSAGES[constraint.name]
    return None, FALLBACK


def violation(name: str):
    """The ``ValidationError`` a service raises for input that would break constraint
    ``name``: the same sentence, on the same field, as the back-office shows."""
    from tenants import errors

    field, sentence = MESSAGES[name]
    return errors.ValidationError(
        sentence, fields={field: [sentence]} if field else None, code=name
    )
