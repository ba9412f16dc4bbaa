"""Rules that once lived only in admin forms hold for every caller of the services (API,
shell, tasks): only drafts may be deleted; a station's merchants are in its city."""

import pytest

from core.errors import DomainError
from merchants import services
from merchants.models import Offer, OfferTransition

from .factories import (
    MerchantFactory,
    OfferFactory,
    StationFactory,
    city_staff,
    merchant_staff,
    superuser,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(cities):
    merchant = MerchantFactory(city_id="330100")
    return {"merchant": merchant, "clerk": merchant_staff(merchant)}


def test_a_draft_is_deleted_by_its_merchant(shop):
    draft = OfferFactory(merchant=shop["merchant"], status=Offer.Status.DRAFT)
    services.delete_offer(actor=shop["clerk"], offer=draft)
    assert not Offer.objects.filter(pk=draft.pk).exists()


@pytest.mark.parametrize("status", ["submitted", "published", "paused", "rejected", "ended"])
def test_an_offer_that_went_out_is_never_deleted_even_by_a_superuser(shop, status):
    offer = OfferFactory(merchant=shop["merchant"], status=status)
    for actor in (shop["clerk"], superuser()):
        with pytest.raises(DomainError) as refused:
            services.delete_offer(actor=actor, offer=offer)
        assert refused.value.code == "offer_not_deletable"
        assert refused.value.status == 409
    assert Offer.objects.filter(pk=offer.pk).exists()


def test_another_merchants_draft_is_not_theirs_to_delete(shop, cities):
    other = OfferFactory(merchant=MerchantFactory(city_id="330100"), status="draft")
    with pytest.raises(DomainError) as refused:
        services.delete_offer(actor=shop["clerk"], offer=other)
    assert refused.value.code == "permission_denied"
    with pytest.raises(DomainError):
        services.delete_offer(actor=city_staff("330100"), offer=other)  # the city reviews
    assert Offer.objects.filter(pk=other.pk).exists()


def test_a_deleted_draft_takes_its_history_with_it(shop):
    draft = services.create_offer(
        actor=shop["clerk"],
        merchant=shop["merchant"],
        fields={
            f: getattr(OfferFactory.build(merchant=shop["merchant"]), f)
            for f in Offer.EDITABLE_FIELDS
            if f != "eligible_home_cities"
        },
    )
    assert OfferTransition.objects.filter(offer=draft).exists()
    services.delete_offer(actor=shop["clerk"], offer=draft)
    assert not OfferTransition.objects.filter(offer_id=draft.pk).exists()


def test_a_station_holds_only_merchants_of_its_city(cities):
    station = StationFactory(city_id="330100", name="西湖站")
    here = MerchantFactory(city_id="330100", name="湖边茶馆")
    there = MerchantFactory(city_id="460100", name="骑楼老街")
    staff = city_staff("330100")
    with pytest.raises(DomainError) as refused:
        services.set_station_merchants(actor=staff, station=station, merchants=[here, there])
    assert refused.value.code == "invalid_request"
    assert "骑楼老街" in refused.value.detail["merchants"][0]
    assert list(station.merchants.all()) == []
    services.set_station_merchants(actor=staff, station=station, merchants=[here])
    assert list(station.merchants.all()) == [here]


def test_only_the_stations_city_or_a_superuser_sets_its_merchants(cities):
    station = StationFactory(city_id="330100")
    here = MerchantFactory(city_id="330100")
    for outsider in (city_staff("460100"), merchant_staff(here)):
        with pytest.raises(DomainError) as refused:
            services.set_station_merchants(actor=outsider, station=station, merchants=[here])
        assert refused.value.code == "permission_denied"
    services.set_station_merchants(actor=superuser(), station=station, merchants=[here])
    assert station.merchants.count() == 1
