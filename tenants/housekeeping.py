"""The worker's periodic chores: the retention of change events (HUB_EVENTS_RETENTION_DAYS)
and of Idempotency-Key records (HUB_IDEMPOTENCY_TTL_HOURS), run by every ``hub_worker`` that
pumps, every ``HUB_HOUSEKEEPING_SECONDS`` (an hour by default) and once at its start, so that
no cron job is needed. Each chore deletes in short statements and may run in several
processes at once (a row deleted twice is deleted once). ``manage.py purge_events`` and
``purge_idempotency_keys`` run the same functions by hand."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings

logger = logging.getLogger("tenants.worker")


#: chores of the apps above tenants (which tenants may not import), registered in their
#: ``AppConfig.ready()``: name -> a function that returns how many rows it deleted
_CHORES: dict[str, Callable[[], int]] = {}


def register_chore(name: str, chore: Callable[[], int]) -> None:
    """Run ``chore`` with every housekeeping round (idempotent, by ``name``)."""
    _CHORES[name] = chore


def housekeeping() -> dict[str, int]:
    """Run every chore; how many rows each deleted."""
    from tenants.events import events_purge
    from tenants.idempotency import purge_expired

    done = {"events": events_purge(), "idempotency_records": purge_expired()}
    for name, chore in sorted(_CHORES.items()):
        done[name] = chore()
    logger.info("housekeeping: %s", ", ".join(f"{n} {what} deleted" for what, n in done.items()))
    return done


class Schedule:
    """Due at once, then every ``period`` seconds of ``clock``."""

    def __init__(self, period: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.period = settings.HUB_HOUSEKEEPING_SECONDS if period is None else period
        self.clock = clock
        self.next = clock()

    def due(self) -> bool:
        now = self.clock()
        if now < self.next:
            return False
        self.next = now + self.period
        return True
