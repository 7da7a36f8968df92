"""The background worker: ``manage.py hub_worker`` (docs/webhooks.md).

One process runs

- the webhook pump (tenants.delivery.tick): fans the outbox out into deliveries, claims the
  due ones and enqueues them as ``deliver_batch`` tasks, and now and then runs the retention
  chores (tenants/housekeeping.py);
- ``--threads`` task workers: django-tasks-db's own worker loop (the one ``db_worker`` runs),
  taking tasks from every queue of the database backend.

Run as many processes as you like, on as many machines as reach the database: claims and
tasks are shared through it (row locks on PostgreSQL), so they never deliver the same batch
twice at once, and a process that dies leaves its claims to expire and be taken again. A lost
connection (the database restarted) is retried, not fatal. SIGINT/SIGTERM stop after the
tasks in flight; a second one stops at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import Error as DatabaseError  # OperationalError, InterfaceError, ...
from django.db import close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Worker

from tenants import delivery, housekeeping

logger = logging.getLogger("tenants.worker")
RETRY_SECONDS = 1.0


class Command(BaseCommand):
    help = "Run the background worker: the webhook pump and the task workers (django-tasks-db)."

    def add_arguments(self, parser):
        parser.add_argument("--threads", type=int, default=4, help="Task worker threads (4).")
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds between polls when idle (HUB_WEBHOOKS_POLL_SECONDS).",
        )
        parser.add_argument(
            "--no-pump", action="store_true", help="Only run tasks (another process pumps)."
        )

    def handle(self, *args, threads, interval, no_pump, verbosity, **options):
        interval = settings.HUB_WEBHOOKS_POLL_SECONDS if interval is None else interval
        for name in ("tenants.worker", "tenants.delivery", "django_tasks_db", "django_tasks"):
            logging.getLogger(name).setLevel(logging.INFO if verbosity else logging.WARNING)
        stop = threading.Event()
        prefix = f"{socket.gethostname()}-{os.getpid()}"
        workers = [
            Worker(
                queue_names=["*"],
                interval=interval,
                batch=False,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id=f"{prefix}-{n}"[:64],
                excluded_queue_names=[],
            )
            for n in range(threads)
        ]

        def shutdown(signum, frame):
            if stop.is_set():
                os._exit(1)
            logger.info("stopping after the tasks in flight (again to stop at once)")
            stop.set()
            for worker in workers:
                worker.running = False

        signal.signal(signal.SIGINT, shutdown)
        signal.signal(signal.SIGTERM, shutdown)
        runners = [
            threading.Thread(target=self.run_worker, args=(w, stop), daemon=True) for w in workers
        ]
        if not no_pump:
            runners.append(threading.Thread(target=self.pump, args=(stop, interval), daemon=True))
        for runner in runners:
            runner.start()
        logger.info("hub_worker %s: %d task thread(s), pump %s", prefix, threads, not no_pump)
        while not stop.is_set():
            stop.wait(1)
        for runner in runners:
            runner.join(settings.HUB_WEBHOOKS_TIMEOUT_SECONDS * 2)

    def run_worker(self, worker: Worker, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                worker.run()
            except DatabaseError:
                # the database went away (a restart): reconnect on the next round
                logger.warning("task worker: database error, retrying", exc_info=True)
                self.reset_connection()
                stop.wait(RETRY_SECONDS)
        connection.close()

    def pump(self, stop: threading.Event, interval: float) -> None:
        chores = housekeeping.Schedule()
        while not stop.is_set():
            try:
                close_old_connections()
                if chores.due():
                    housekeeping.housekeeping()
                busy = delivery.tick()
            except DatabaseError:
                logger.warning("webhook pump: database error, retrying", exc_info=True)
                self.reset_connection()
                busy = 0
                stop.wait(RETRY_SECONDS)
            except Exception:
                logger.exception("webhook pump failed; retrying")
                busy = 0
                stop.wait(RETRY_SECONDS)
            if not busy:
                stop.wait(interval)
        connection.close()

    @staticmethod
    def reset_connection() -> None:
        with contextlib.suppress(DatabaseError):
            connection.close()
