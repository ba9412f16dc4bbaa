"""The statement reads run a fixed number of queries however many rows and merchants."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from incentives.statements.services import close_due_at, close_month

from .conftest import at, merchant_in, offer, redeem
from .test_api import client, streamed


def count(user, url: str) -> int:
    c = client(user)
    with CaptureQueriesContext(connection) as ctx:
        res = c.get(url)
        assert res.status_code == 200
        streamed(res)
    return len(ctx)


def test_lists_and_roll_ups_do_not_grow_with_rows_or_merchants(world, hz_staff):
    close_month(city="330100", month=world.month, now=close_due_at(world.month))
    m = f"{world.month:%Y-%m}"
    urls = {
        world.clerk: ["/api/v1/merchant/statements", f"/api/v1/merchant/statements/{m}.csv"],
        hz_staff: [f"/api/v1/dashboard/statements?month={m}"],
    }

    def add_merchant(i: int) -> None:
        more = merchant_in("330100", f"新商户{i}")
        redeem(
            offer(more, benefit_type="amount_off", benefit_value=5), at(world.month), world.clerk
        )

    add_merchant(0)  # a merchant that joined after the close: the roll-up reads it live
    before = {url: count(user, url) for user, group in urls.items() for url in group}
    for i in range(1, 4):
        add_merchant(i)
    for day in range(5, 9):
        redeem(world.offers["boat"], at(world.month.replace(day=day), 15), world.clerk)
    after = {url: count(user, url) for user, group in urls.items() for url in group}
    assert after == before
