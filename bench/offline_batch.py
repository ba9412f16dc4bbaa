"""Offline redemption uploads (issue 16): how long POST merchant/redemptions/batch takes
to apply a full batch of 500 rows, in-process through the service on PostgreSQL, for
fresh rows (each redeems), the same batches again (each answers its stored outcome) and
rows that all meet a voucher redeemed online first (each a recorded conflict).

Run: scripts/with-services.sh .venv/bin/python bench/offline_batch.py [--batches N]
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent / "redeem"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_smoke, record, setup_django, summary_ms
from redeem.run import seed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=10)
    add_smoke(parser, batches=1)
    args = parser.parse_args()
    setup_django()
    from django.utils import timezone

    from incentives.models import OfflineRedemption
    from incentives.vouchers import offline, services

    size = offline.MAX_BATCH
    clerk, _merchant, _ids, tokens = seed(size * (args.batches + 2))
    scanned = timezone.now() - timedelta(minutes=10)

    def batch(chunk: list[str]) -> list:
        return [
            offline.OfflineScan(
                nonce=uuid4().hex, device_id="bench", scanned_at=scanned, token=token
            )
            for token in chunk
        ]

    batches = [batch(tokens[i * size : (i + 1) * size]) for i in range(args.batches)]

    def timed(scans) -> tuple[float, list]:
        started = time.perf_counter()
        results = offline.redeem_offline_batch(staff_id=clerk.pk, scans=scans)
        return time.perf_counter() - started, results

    fresh, again = [], []
    for scans in batches:
        ms, results = timed(scans)
        assert all(r.outcome == "redeemed" for r in results)
        fresh.append(ms)
    for scans in batches:
        ms, results = timed(scans)
        assert all(r.outcome == "redeemed" for r in results)
        again.append(ms)
    last = tokens[args.batches * size : (args.batches + 1) * size]
    started = time.perf_counter()
    for token in last:  # the floor: the same vouchers redeemed online, one call each
        services.redeem_voucher(staff_id=clerk.pk, token=token)
    online = time.perf_counter() - started
    ms, results = timed(batch(last))
    assert all(r.outcome == "already_redeemed" for r in results)
    assert OfflineRedemption.objects.filter(conflict=True).count() == size

    def rate(values: list[float]) -> str:
        return f"{size / (sum(values) / len(values)):,.0f} rows/s"

    record(
        "Offline redemption batches (bench/offline_batch.py)",
        [
            f"- {args.batches} batches of {size} rows, applied through "
            "`incentives.vouchers.offline.redeem_offline_batch` (each row its own transaction: "
            "nonce insert, the one-statement redemption, outcome update).",
            f"- fresh rows (each redeems): per batch {summary_ms(fresh)}; {rate(fresh)}",
            f"- the same batches again (stored outcomes): per batch {summary_ms(again)}; "
            f"{rate(again)}",
            f"- one batch whose {size} vouchers were redeemed online first (all conflicts): "
            f"{ms * 1000:.0f} ms; {size / ms:,.0f} rows/s",
            f"- floor, same run: those {size} vouchers redeemed online one by one through "
            f"`services.redeem_voucher`: {online * 1000:.0f} ms; {size / online:,.0f} /s",
            f"- load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
            "cores (other sessions' test suites running)",
        ],
    )


if __name__ == "__main__":
    main()
