"""``manage.py generate --customers N [--tenant SLUG] [--orders K] [--seed S] ...``

Adds N realistic synthetic customers (with addresses and tags, and, through the apps listed
in ``tests.bench.generate.EXTENSIONS``, store links and B2B accounts with contacts and orders) to a
tenant, fast (COPY on PostgreSQL) and deterministically (see tests/bench/generate.py). The
tenant is created when missing. Generated rows get no change history.
"""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from tenants.models import Tenant
from tenants.services import tenant_create
from tests.bench.generate import GenerationRun, extension_classes


class Command(BaseCommand):
    help = "Generate N synthetic customers (and their store links, accounts and orders)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, required=True, help="how many to add")
        parser.add_argument(
            "--tenant", default="bench", help="tenant slug, created when missing (default bench)"
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--chunk-size", type=int, default=10_000, help="customers per transaction"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="processes writing chunks in parallel (PostgreSQL only; default 2)",
        )
        parser.add_argument(
            "--no-analyze",
            action="store_true",
            help="skip VACUUM (ANALYZE) of the written tables at the end",
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        for cls in extension_classes():
            cls.add_arguments(parser)

    def handle(self, *args, **options):
        count = options["customers"]
        if count < 0:
            raise CommandError("--customers must be 0 or more.")
        slug = options["tenant"]
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            try:
                tenant = tenant_create(slug=slug, name=slug.replace("-", " ").title())
            except Exception as exc:  # a bad slug: say so plainly
                raise CommandError(f"Cannot create tenant {slug!r}: {exc}") from exc
        started = time.perf_counter()
        run = GenerationRun(
            tenant=tenant,
            count=count,
            seed=options["seed"],
            options=options,
            chunk_size=options["chunk_size"],
        )
        bar = None
        if not options["quiet"]:
            from tqdm import tqdm

            bar = tqdm(
                total=count, unit=" customers", unit_scale=True, file=sys.stderr, smoothing=0.1
            )
        try:
            summary = run.run(
                progress=bar.update if bar is not None else None, workers=options["workers"]
            )
        finally:
            if bar is not None:
                bar.close()
        elapsed = time.perf_counter() - started
        analyzed = 0.0
        if not options["no_analyze"]:
            t0 = time.perf_counter()
            run.analyze()
            analyzed = time.perf_counter() - t0
        rate = count / elapsed if elapsed > 0 else 0.0
        parts = ", ".join(f"{value:,} {label}" for label, value in summary.items())
        self.stdout.write(
            f"Generated in tenant {tenant.slug!r} (customers {run.start:,}.."
            f"{run.start + count - 1:,}, seed {options['seed']}): {parts}."
        )
        self.stdout.write(
            f"{elapsed:.1f} s, {rate:,.0f} customers/s"
            + (
                f" (including {run.index_seconds:.1f} s rebuilding indexes)"
                if run.index_seconds
                else ""
            )
            + (f"; statistics refreshed in {analyzed:.1f} s" if analyzed else "")
        )
