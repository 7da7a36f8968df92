"""The customers app's background tasks (Django's Tasks API, run by ``manage.py hub_worker``).
Tasks carry ids only: the rows are the truth (tenants/tasks.py)."""

from __future__ import annotations

from django_tasks import task

from customers import privacy


@task()
def build_export(export_id: str) -> str:
    """Build a queued export's bundle (customers/privacy.py ``export_build``)."""
    return privacy.export_build(export_id)
