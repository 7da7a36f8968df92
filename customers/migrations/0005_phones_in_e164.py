"""Stored phones of customers and addresses in E.164, as every write now stores them.

A phone is parsed with its tenant's default region (tenants 0005); one that is not a phone
number (``call me maybe!!``, or a national number of a tenant without a region) is left as
it is: no data is destroyed, and the next write of that field must give a valid number.
The rule is the one of ``tenants.phones.phone_e164``, copied here because a migration
imports no app code. Keyset batches of 1000 rows; ``updated_at`` and the history are left
alone (the number is the same, only its spelling changes).
"""

import phonenumbers
from django.db import migrations

BATCH = 1000


def e164(value, region):
    text = (value or "").strip()
    if not text or len(text) > 64:
        return None
    try:
        number = phonenumbers.parse(text, region or None)
    except phonenumbers.NumberParseException:
        return None
    if not (
        phonenumbers.is_valid_number(number)
        or phonenumbers.is_possible_number_with_reason(number)
        == phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY
    ):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(model, tenant_of: str, regions: dict) -> int:
    changed, last = 0, None
    while True:
        rows = model.objects.exclude(phone="").order_by("pk")
        if last is not None:
            rows = rows.filter(pk__gt=last)
        batch = list(rows.values_list("pk", "phone", tenant_of)[:BATCH])
        if not batch:
            return changed
        last = batch[-1][0]
        updates = []
        for pk, phone, tenant_id in batch:
            new = e164(phone, regions.get(tenant_id, ""))
            if new is not None and new != phone:
                updates.append(model(pk=pk, phone=new))
        model.objects.bulk_update(updates, ["phone"])
        changed += len(updates)


def forwards(apps, schema_editor):
    regions = dict(apps.get_model("tenants", "Tenant").objects.values_list("id", "default_region"))
    normalise(apps.get_model("customers", "Customer"), "tenant_id", regions)
    normalise(apps.get_model("customers", "Address"), "customer__tenant_id", regions)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_trigram_pending_lists"),
        ("tenants", "0005_tenant_default_region"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
