"""The three list syncs stage through core.staged_sync: everything happens inside one
transaction and nothing of it outlives that transaction (the staging table is ON COMMIT
DROP, work_mem is SET LOCAL), as a transaction pooler (PgBouncer) requires: the next
client of the same server session finds it clean."""

import pytest
from django.db import connection, transaction

from accounts.credit import services as credit
from accounts.credit.models import Honour, ListedPerson
from accounts.credit.providers import ProviderUnavailable
from accounts.reference import load_reference_data
from core.staged_sync import staging_table
from merchants.credit import services as enterprise
from merchants.models import Merchant
from tests.merchants.factories import MerchantFactory

pytestmark = pytest.mark.django_db(transaction=True)

SYNCS = {
    "credit_list_staging": lambda: credit.sync_dishonest_list(city_code="330100"),
    "credit_honour_staging": lambda: credit.sync_honours(city_code="330100"),
    "enterprise_credit_staging": enterprise.sync_enterprise_credit,
}


def staged(table: str) -> bool:
    """Does this session hold the temporary staging table?"""
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [f"pg_temp.{table}"])
        return cur.fetchone()[0]


def work_mem() -> str:
    with connection.cursor() as cur:
        cur.execute("SHOW work_mem")
        return cur.fetchone()[0]


@pytest.fixture
def world(db):
    load_reference_data()
    MerchantFactory(credit_code="91330100MA0000015W")  # graded A in the enterprise sandbox


@pytest.mark.parametrize("table", SYNCS)
def test_a_syncs_staging_table_is_gone_when_its_transaction_commits(world, table):
    before = work_mem()
    with transaction.atomic():
        SYNCS[table]()
        assert staged(table)  # dropped by the commit, not by the sync
        SYNCS[table]()  # staged again in the same transaction: starts from an empty table
        assert staged(table)
    assert not staged(table)
    assert work_mem() == before


def test_the_three_syncs_run_inside_one_outer_transaction(world):
    with transaction.atomic():
        listed = credit.sync_dishonest_list(city_code="330100")
        honours = credit.sync_honours(city_code="330100")
        grades = enterprise.sync_enterprise_credit()
        again = credit.sync_dishonest_list(city_code="330100")
    assert listed.entries == again.entries == ListedPerson.objects.count() > 0
    assert again.removed == 0 and again.newly_listed == 0
    assert honours.entries > 0 and Honour.objects.filter(city_id="330100").exists()
    assert grades.merchants_updated == Merchant.objects.exclude(credit_grade="").count() == 1
    assert not any(staged(table) for table in SYNCS)


def test_a_sync_that_fails_leaves_no_staging_table_and_changes_nothing(world, settings):
    settings.CREDIT_SANDBOX_DOWN_CITIES = ["330100"]
    with pytest.raises(ProviderUnavailable):
        credit.sync_dishonest_list(city_code="330100")
    assert not staged("credit_list_staging")
    assert not ListedPerson.objects.exists()


def test_staging_needs_plain_names():
    with (
        pytest.raises(ValueError, match="plain SQL name"),
        staging_table("staging; DROP TABLE accounts_user", {"x": "int"}),
    ):
        pass
