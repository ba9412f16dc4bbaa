"""The voucher table as the claim writes it (issue 27, point 3): only the indexes its reads
use, and database checks only on the keys the claim does not copy. The copied keys
(merchant, both cities) keep their integrity in the ORM: deleting a merchant or a city that
vouchers point at is refused, as it was when the database checked them."""

import pytest
from django.db import connection
from django.db.models import ProtectedError

from accounts.models import City
from incentives.models import Voucher
from tests.incentives.conftest import client_for, make_resident, publish

pytestmark = pytest.mark.django_db

# each one is written by every claim; a new one needs a read that uses it
INDEXES = {
    "incentives_voucher_pkey",
    "incentives_voucher_code_key",  # the code's uniqueness (the claim's ON CONFLICT)
    "incentives_voucher_offer_id_f9cdc4b4",  # an offer's vouchers
    "voucher_resident_recent",  # a resident's wallet (leads with resident_id)
    "voucher_merchant_redeemed",  # a merchant's redemptions (leads with merchant_id)
    "voucher_issued_at",  # the roll-ups' day ranges
    "voucher_issued_expiry",  # expiry
    "dash_voucher_redeemed_at",  # partial: not written at issue
    "dash_voucher_closed_at",  # partial: not written at issue
}


def test_the_voucher_table_carries_only_the_indexes_its_reads_use():
    with connection.cursor() as cur:
        cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'incentives_voucher'")
        indexes = {name for (name,) in cur.fetchall()}
        cur.execute(
            "SELECT a.attname FROM pg_constraint c JOIN pg_attribute a"
            " ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
            " WHERE c.conrelid = 'incentives_voucher'::regclass AND c.contype = 'f'"
        )
        checked = {name for (name,) in cur.fetchall()}
    assert indexes == INDEXES  # e.g. no LIKE index, no index per copied key
    assert checked == {"offer_id", "resident_id"}


def test_a_merchant_or_city_its_vouchers_point_at_cannot_be_deleted(world):
    resident = make_resident(city="310100")
    offer = publish()
    res = client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim")
    assert res.status_code == 201
    voucher = Voucher.objects.get(code=res.json()["code"])
    assert (voucher.dest_city_id, voucher.home_city_id) == ("330100", "310100")

    for parent in (offer.merchant, City.objects.get(pk="330100"), City.objects.get(pk="310100")):
        with pytest.raises(ProtectedError) as refused:
            parent.delete()
        assert voucher in refused.value.protected_objects, parent
    assert Voucher.objects.filter(pk=voucher.pk).exists()
