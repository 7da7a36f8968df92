"""Background tasks (Django's Tasks API, the django-tasks backport; run by ``manage.py
hub_worker``). Tasks only carry ids: the rows are the truth, so a task run twice, late, or
never (its worker killed) loses nothing (tenants/delivery.py)."""

from __future__ import annotations

from django_tasks import task

from tenants import delivery


@task(queue_name="webhooks")
def deliver_batch(delivery_ids: list[int], lease: str) -> int:
    """Deliver one endpoint's batch claimed under ``lease``."""
    return delivery.deliver_claimed(delivery_ids, lease)
