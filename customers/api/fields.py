"""Output fields of a customer that every dialect shows the same way."""

from __future__ import annotations

from rest_framework import serializers

from customers.models import DISPLAY_NAME_FIELDS, display_name
from tenants.api.compiled import Computed


class DisplayNameField(Computed, serializers.CharField):
    """The best name the customer at ``path`` has (``customers.models.display_name``): read
    from its name parts, so a list's rows need no model instance."""

    def __init__(self, path: str = "", **kwargs):
        prefix = f"{path}." if path else ""
        super().__init__(reads=tuple(prefix + part for part in DISPLAY_NAME_FIELDS), **kwargs)

    def compute(self, *parts):
        return display_name(*parts)
