"""The admin's history pages (django-simple-history's), readable by a person.

``ReadableHistoryAdmin`` lists each change as "label: old -> new" with labels rather than
primary keys (a price list's name, an address's one-line form, Yes/No, a choice's label),
and the project's ``simple_history/object_history_list.html`` names the author of every
version (a user, an API key by its name, or the system: tenants/history.py) and its time
with the time zone, for every tracked model's history page.
"""

from __future__ import annotations

from itertools import pairwise

from simple_history.admin import SimpleHistoryAdmin

from tenants.history import changes_between, diff_fields, label_refs, related_labels


class ReadableHistoryAdmin(SimpleHistoryAdmin):
    #: fields whose changes the history page does not list
    history_exclude: tuple[str, ...] = ("tenant",)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        records = list(historical_records)  # newest first
        if not records:
            return
        # The oldest version on the page is compared with the one before it (one query).
        oldest = records[-1]
        pk_name = self.model._meta.pk.attname
        before = (
            type(oldest)
            ._default_manager.filter(
                **{pk_name: getattr(oldest, pk_name)}, history_id__lt=oldest.history_id
            )
            .order_by("-history_id")
            .first()
        )
        versions = [*records, before] if before is not None else records
        fields = diff_fields(self.model, self.history_exclude)
        labels = related_labels(label_refs(fields, versions))
        for current, older in pairwise(versions):
            if current.history_type != "~":
                continue
            current.history_delta_changes = [
                {"field": c.label, "old": c.old or "—", "new": c.new or "—"}
                for c in changes_between(fields, older, current, labels)
            ]
