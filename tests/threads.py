"""Running test code in a second thread, with its own database connection (the race tests
of the database's triggers: tests/test_store_link_names.py, tests/test_order_line_copies.py)."""

from __future__ import annotations

import threading

from django.db import connection


def in_background(work):
    """Start ``work()`` in a thread with its own database connection; returns a function that
    waits for it and gives the exceptions it raised."""
    errors = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # pragma: no cover - reported by the caller
            errors.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()

    def join() -> list:
        worker.join(timeout=60)
        return errors

    return join
