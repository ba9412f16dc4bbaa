"""A downgrade and a publish at the same moment, on PostgreSQL with real threads: the
publish waits for the merchant row the credit sync holds, then sees the downgrade; no
offer of a merchant graded D is ever published behind the sync's back."""

import threading
import time

import pytest
from django.db import connection, transaction

from core.errors import DomainError
from merchants import services
from merchants.models import Merchant, Offer

from .factories import MerchantFactory, OfferFactory, city_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_publish_during_a_downgrade_sees_the_downgrade(cities):
    merchant = MerchantFactory(city_id="330100", credit_grade="A")
    offer = OfferFactory(merchant=merchant, status="submitted")
    reviewer = city_staff("330100")
    holding = threading.Event()
    outcome: dict = {}

    def sync_in_progress() -> None:
        # what sync_enterprise_credit does first: UPDATE the merchant rows, in a
        # transaction that is still open when the reviewer clicks "publish"
        try:
            with transaction.atomic():
                Merchant.objects.filter(pk=merchant.pk).update(credit_grade="D")
                holding.set()
                time.sleep(0.5)  # the rest of the sync; the publish must wait for it
        finally:
            connection.close()

    def publish() -> None:
        holding.wait(timeout=30)
        try:
            services.publish_offer(actor=reviewer, offer=offer)
            outcome["result"] = "published"
        except DomainError as exc:
            outcome["result"] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=sync_in_progress), threading.Thread(target=publish)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcome["result"] == "merchant_not_in_good_standing"
    assert Offer.objects.get(pk=offer.pk).status == "submitted"
