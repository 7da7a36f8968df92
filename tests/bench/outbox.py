"""The change events' cost on find-or-create (issue 21: the outbox may cost at most 10 % of
its throughput), measured in-process on PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_outbox python -m tests.bench.outbox [N] [ROUNDS]

``POST /api/data/customer`` with a new Discord id each time (the creating path: the customer,
its history row and, with events, the outbox INSERT), through Django's test client (the whole
request: middleware, authentication, the view, the service, the response), one request at a
time. Requests alternate events on and off (the batch discarded instead of written), so that
a loaded machine's drift weighs on both alike; the figure compares the modes' median
latencies (throughput at one request at a time is its inverse). No HTTP
server and no network: this is the cost the outbox adds to the request's own work, which is
what the 10 % bound is about (a server only adds the same fixed cost to both).
"""

from __future__ import annotations

import os
import statistics
import sys
import time


def main(n: int = 300, rounds: int = 6) -> None:
    from tests.bench.run import configure_environment, ensure_database

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
    modes = {"with events": written, "without events": discard}
    timings: dict[str, list[float]] = {mode: [] for mode in modes}
    for i in range(n * rounds * 2):
        # alternate request by request: a loaded machine's drift weighs on both modes alike
        mode = ("with events", "without events")[(i + i // (2 * n)) % 2]
        events.Batch.flush = modes[mode]
        serial += 1
        body = {
            "discordId": str(serial),
            "discordUsername": f"u{serial}",
            "discordDisplayName": "B",
        }
        start = time.perf_counter()
        response = client.post("/api/data/customer", body, content_type="application/json")
        timings[mode].append(time.perf_counter() - start)
        assert response.status_code == 201, response.content
    events.Batch.flush = written
    medians = {mode: statistics.median(values) for mode, values in timings.items()}
    print(f"requests per mode: {n * rounds}, alternating")
    for mode, values in timings.items():
        deciles = statistics.quantiles(values, n=10)
        print(
            f"{mode}: median {1000 * medians[mode]:.2f} ms ({1 / medians[mode]:.0f} req/s), "
            f"p10 {1000 * deciles[0]:.2f} ms, p90 {1000 * deciles[-1]:.2f} ms"
        )
    cost = 1 - medians["without events"] / medians["with events"]
    print(f"outbox cost: {100 * cost:.1f} % of find-or-create's throughput (median latencies)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
