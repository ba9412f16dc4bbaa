"""Rebuild the dashboard roll-ups of a range of days from the vouchers."""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from incentives.dashboard.rollup import TZ, local_today, rebuild_rollups
from incentives.models import Voucher


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a YYYY-MM-DD date: {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Recompute the dashboard roll-ups of the days --from..--to (inclusive, "
        "Asia/Shanghai). Idempotent; one transaction per chunk of days."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD (default today)")
        parser.add_argument(
            "--all",
            dest="all_days",
            action="store_true",
            help="from the first voucher's day to today",
        )
        parser.add_argument("--chunk-days", type=int, default=31)

    def handle(self, *args, date_from=None, date_to=None, all_days=False, chunk_days=31, **options):
        today = local_today()
        if all_days:
            first = Voucher.objects.order_by("issued_at").values_list("issued_at", flat=True)
            start = first.first()
            if start is None:
                self.stdout.write("no vouchers: nothing to rebuild")
                return
            date_from = date_from or start.astimezone(TZ).date().isoformat()
        if not date_from:
            raise CommandError("give --from YYYY-MM-DD (and --to), or --all")
        first_day, last_day = _day(date_from), _day(date_to) if date_to else today
        if first_day > last_day:
            raise CommandError("--from is after --to")
        if chunk_days < 1:
            raise CommandError("--chunk-days must be at least 1")
        started = time.monotonic()

        def progress(first: date, last: date, counts: tuple[int, int, int]) -> None:
            self.stdout.write(
                f"  {first}..{last}: {counts[0]} city rows, {counts[1]} offer rows, "
                f"{counts[2]} claimant rows"
            )

        report = rebuild_rollups(
            date_from=first_day,
            date_to=last_day,
            chunk_days=chunk_days,
            progress=progress if options.get("verbosity", 1) > 0 else None,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"rebuilt {report.date_from}..{report.date_to} in "
                f"{time.monotonic() - started:.1f} s: {report.city_rows} city rows, "
                f"{report.offer_rows} offer rows, {report.claimant_sets} resident sets"
            )
        )
