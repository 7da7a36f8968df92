"""Change history (django-simple-history) with the author of each change.

DRF copies the authenticated user onto the Django request, so changes made through any
dialect are attributed to the user; API-key requests have no user (``history_user`` is empty,
and the change reason names the key).
"""

from django.contrib.auth import get_user_model
from simple_history.models import HistoricalRecords


def history_user(instance=None, request=None, **kwargs):
    request = request or getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    if isinstance(user, get_user_model()) and user.is_authenticated:
        return user
    return None


def tracked(**kwargs) -> HistoricalRecords:
    return HistoricalRecords(get_user=history_user, **kwargs)
