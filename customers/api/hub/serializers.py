"""The hub dialect's output shapes for customers (snake_case)."""

from __future__ import annotations

from rest_framework import serializers

from customers.history import TimelineEntry
from tenants.api.dialect import iso_timestamp


class HubActorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=["user", "api_key", "system"],
        help_text="Who made the change: a user, an API key, or the system.",
    )
    name = serializers.CharField(
        help_text="The user's name, the API key's name (when the change was made), or what "
        "the system was doing (e.g. `manage.py import_customers`)."
    )
    id = serializers.CharField(
        allow_null=True, help_text="The user's id or the API key's id; null for the system."
    )
    origin = serializers.CharField(
        help_text="Through what: `admin`, `api:<dialect>` (e.g. `api:b2b`), "
        "`manage.py <command>`, or `system`."
    )
    label = serializers.CharField(
        help_text="How a person reads it: the user name, `API key '<name>'`, or `system`."
    )


class HubChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field's name, e.g. `price_list`.")
    label = serializers.CharField(help_text="What a person calls it, e.g. `Price list`.")
    old = serializers.CharField(
        allow_null=True,
        help_text="The value before, as a person reads it (a price list's name, an address's "
        "one-line form, Yes/No, a choice's label); null when it was empty.",
    )
    new = serializers.CharField(allow_null=True, help_text="The value after, as `old`.")


class HubChangedObjectSerializer(serializers.Serializer):
    type = serializers.CharField(
        help_text="customer, address, store_link, account, contact or order (and whatever "
        "else an app adds to the timeline)."
    )
    id = serializers.CharField(allow_null=True, help_text="Its id, when it has a public one.")
    label = serializers.CharField(help_text="The object as it was, e.g. `Address 'home' (…)`.")


class HubHistoryEntrySerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The entry's id (stable).")
    at = serializers.DateTimeField(help_text="When (ISO 8601, UTC).")
    action = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    object = HubChangedObjectSerializer()
    summary = serializers.CharField(help_text="One sentence: the object and what happened.")
    actor = HubActorSerializer()
    reason = serializers.CharField(allow_null=True, help_text="The reason recorded, if any.")
    changes = HubChangeSerializer(many=True, help_text="For `changed`: each field that changed.")


def entry_output(entry: TimelineEntry) -> dict:
    actor = entry.actor
    return {
        "id": entry.id,
        "at": iso_timestamp(entry.at),
        "action": entry.action,
        "object": {"type": entry.object_type, "id": entry.object_id, "label": entry.title},
        "summary": entry.summary,
        "actor": {
            "type": actor.kind,
            "name": actor.name,
            "id": actor.id,
            "origin": actor.origin or "system",
            "label": actor.label,
        },
        "reason": entry.reason or None,
        "changes": [
            {"field": c.field, "label": c.label, "old": c.old, "new": c.new} for c in entry.changes
        ],
    }
