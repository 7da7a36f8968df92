"""Stored phones of B2B contacts in E.164, as every write now stores them (the rule and its
limits: customers/migrations/0005_phones_in_e164.py, copied because a migration imports no
app code). Unparseable phones are left as they are."""

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


def forwards(apps, schema_editor):
    regions = dict(apps.get_model("tenants", "Tenant").objects.values_list("id", "default_region"))
    Contact = apps.get_model("b2b", "Contact")
    last = None
    while True:
        rows = Contact.objects.exclude(phone="").order_by("pk")
        if last is not None:
            rows = rows.filter(pk__gt=last)
        batch = list(rows.values_list("pk", "phone", "customer__tenant_id")[:BATCH])
        if not batch:
            return
        last = batch[-1][0]
        updates = []
        for pk, phone, tenant_id in batch:
            new = e164(phone, regions.get(tenant_id, ""))
            if new is not None and new != phone:
                updates.append(Contact(pk=pk, phone=new))
        Contact.objects.bulk_update(updates, ["phone"])


class Migration(migrations.Migration):
    dependencies = [
        ("b2b", "0006_orderline_order_index"),
        ("tenants", "0005_tenant_default_region"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
