"""Find the possible duplicates among a tenant's customers and queue them for review.

    python manage.py find_duplicates TENANT [--resume] [--dry-run] [--batch-size N]
                                            [--min-score S] [--no-progress]

Walks the tenant's live customers in primary-key order, a keyset batch at a time (memory
stays flat whatever their number), finds the candidates of those that may have one as the API
does (customers/duplicates.py: at the default minimum the tenant's names and shared values
are read once, ``NameHeads``) and records the pairs scoring at least ``--min-score`` in the
review queue; dismissed and merged pairs are never reopened. After each batch the position
(the last customer done) is kept in the tenant's ``DuplicateScan`` row, in the batch's own
transaction: ``--resume`` continues an interrupted run after it. docs/duplicates.md.
"""

import contextlib

from django.core.management.base import BaseCommand

from customers import duplicates
from customers.management.commands.import_customers import Progress, tenant_for
from customers.selectors import customers_total
from tenants.history import history_context


class Command(BaseCommand):
    help = "Find possible duplicate customers of a tenant and fill the review queue."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug or id")
        parser.add_argument(
            "--resume",
            action="store_true",
            help="continue an interrupted run after the last customer it did",
        )
        parser.add_argument("--dry-run", action="store_true", help="find and count, record nothing")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=duplicates.BATCH_MAX,
            help=f"customers per batch, at most {duplicates.BATCH_MAX} (the default)",
        )
        parser.add_argument(
            "--min-score",
            type=int,
            default=duplicates.DEFAULT_MIN_SCORE,
            help=f"the least score recorded (default {duplicates.DEFAULT_MIN_SCORE})",
        )
        parser.add_argument(
            "--limit", type=int, default=20, help="the most candidates kept per customer"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        tenant = tenant_for(options["tenant"])
        batch_size = min(max(options["batch_size"], 1), duplicates.BATCH_MAX)
        dry_run = options["dry_run"]
        after, done, found = 0, 0, 0
        if not dry_run:
            scan = duplicates.duplicate_scan_start(tenant=tenant, resume=options["resume"])
            after, done = scan.last_customer_id, scan.customers_done
            if after:
                self.stdout.write(f"resuming after customer {after} ({done} done)")
        total = customers_total(tenant=tenant)
        progress = None if options["no_progress"] else Progress(total, self.stderr._out)
        opened, shown = 0, 0

        def report(done: int) -> None:
            # a line per 5 % off a terminal: the batches cover uneven numbers of customers
            nonlocal shown
            if progress is None:
                return
            done = min(done, total)
            mark = done if progress.tty else done // progress.step * progress.step
            if mark > shown or done == total:
                shown = mark
                progress(done if done == total else mark)

        # with a minimum that no name alone reaches, the tenant's names and shared values
        # are read once (NameHeads) and the finder runs for the customers that may have a
        # candidate; below it, for every customer, as the API does
        heads = (
            duplicates.NameHeads(tenant)
            if options["min_score"] >= duplicates.HEADS_MIN_SCORE
            else contextlib.nullcontext()
        )
        with history_context(origin="manage.py find_duplicates"), heads:
            if isinstance(heads, duplicates.NameHeads):
                batches = heads.batches(after=after, size=batch_size)
            else:
                batches = duplicates.customer_batches(tenant=tenant, after=after, size=batch_size)
            for rows, after, customers in batches:
                pairs = (
                    duplicates.found_pairs(
                        duplicates.candidates_for_rows(
                            tenant=tenant,
                            rows=rows,
                            limit=options["limit"],
                            min_score=options["min_score"],
                            heads=heads if isinstance(heads, duplicates.NameHeads) else None,
                        )
                    )
                    if rows
                    else []
                )
                done += customers
                found += len({duplicates.ordered(p.customer_id, p.other_id) for p in pairs})
                if not dry_run:
                    scan = duplicates.duplicate_scan_advance(
                        tenant=tenant, pairs=pairs, last_customer_id=after, customers=customers
                    )
                    opened = scan.pairs_recorded
                report(done)
            if not dry_run:
                duplicates.duplicate_scan_finish(tenant=tenant)
        if dry_run:
            self.stdout.write(
                self.style.SUCCESS(f"{done} customer(s) checked, {found} pair(s) found. Dry run.")
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(f"{done} customer(s) checked, {opened} pair(s) opened.")
            )
