"""The change events' cost on find-or-create (issue 21: the outbox may cost at most 10 % of
its throughput), measured in-process on PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_outbox python -m bench.outbox [N] [ROUNDS]

``POST /api/data/customer`` with a new Discord id each time (the creating path: the customer,
its history row and, with events, the outbox INSERT), through Django's test client (the whole
request: middleware, authentication, the view, the service, the response), one request at a
time. Rounds alternate events on and off (the batch discarded instead of written), so that a
machine's drift weighs on both alike; the figure is each mode's median throughput. No HTTP
server and no network: this is the cost the outbox adds to the request's own work, which is
what the 10 % bound is about (a server only adds the same fixed cost to both).
"""

from __future__ import annotations

import os
import statistics
import sys
import time


def main(n: int = 300, rounds: int = 6) -> None:
    from bench.run import configure_environment, ensure_database

    database_url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/hub_outbox"
    configure_environment(database_url)
    ensure_database(database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from customers.services import member_join
    from tenants import events
    from tenants.models import Tenant
    from tenants.services import tenant_create, user_ensure, user_token_issue

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.filter(slug="outbox").first() or tenant_create(
        slug="outbox", name="Outbox"
    )
    user = user_ensure(username="outbox-agent", password="outbox-bench-password")
    member_join(tenant=tenant, user=user, role="agent")
    token = user_token_issue(user=user)[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_TENANT_ID="outbox")
    written = events.Batch.flush

    def discard(self, *, min_size=0):
        self.events.clear()
        return 0

    serial = int(time.time() * 1000) % 10**9 * 1000
    results: dict[str, list[float]] = {"with events": [], "without events": []}
    for round_ in range(rounds):
        for mode in (
            ("with events", "without events")
            if round_ % 2 == 0
            else (
                "without events",
                "with events",
            )
        ):
            events.Batch.flush = written if mode == "with events" else discard
            start = time.perf_counter()
            for _ in range(n):
                serial += 1
                response = client.post(
                    "/api/data/customer",
                    {
                        "discordId": str(serial),
                        "discordUsername": f"u{serial}",
                        "discordDisplayName": "Bench",
                    },
                    content_type="application/json",
                )
                assert response.status_code == 201, response.content
            results[mode].append(n / (time.perf_counter() - start))
    events.Batch.flush = written
    with_events = statistics.median(results["with events"])
    without = statistics.median(results["without events"])
    print(f"requests per round: {n}, rounds per mode: {rounds}")
    for mode, values in results.items():
        print(
            f"{mode}: median {statistics.median(values):.0f} req/s  ({', '.join(f'{v:.0f}' for v in values)})"
        )
    print(f"outbox cost: {100 * (1 - with_events / without):.1f} % of find-or-create's throughput")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
