"""Claiming: the re-checks, the quota and the per-resident limit, idempotency, and the
terms a voucher keeps."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.credit.models import Consent, ConsentText
from incentives.models import ClaimTally, IdempotencyRecord, Voucher
from merchants.models import Offer
from tests.incentives.conftest import client_for, make_resident, publish

pytestmark = pytest.mark.django_db


def claim(user, offer_id, **headers):
    return client_for(user).post(f"/api/v1/offers/{offer_id}/claim", **headers)


def test_claim_issues_a_voucher_with_a_token_and_the_terms(resident, offer):
    res = claim(resident, offer.pk)
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["status"] == "issued" and len(body["code"]) == 10
    assert body["display_code"].count("-") == 2
    assert body["token"].startswith("XY1")
    assert body["offer"]["title"] == offer.title and body["offer"]["merchant"] == "西湖游船"
    assert body["qr_png_url"].endswith(f"/api/v1/me/vouchers/{body['code']}/qr.png")
    voucher = Voucher.objects.get()
    assert voucher.terms["terms_version"] == offer.terms_version
    assert (voucher.dest_city_id, voucher.home_city_id) == ("330100", "330100")
    assert voucher.expires_at <= offer.valid_until
    offer.refresh_from_db()
    assert offer.claimed_count == 1


def test_without_consent_or_standing_nothing_is_issued(world, offer):
    no_consent = make_resident(consent=False)
    assert claim(no_consent, offer.pk).json()["error"]["code"] == "consent_required"
    from tests.factories import ResidentFactory

    fresh = ResidentFactory(home_city_id="330100")
    Consent.objects.create(resident=fresh, text=ConsentText.objects.get(is_current=True))
    res = claim(fresh, offer.pk)
    assert res.status_code == 403 and res.json()["error"]["code"] == "no_standing"
    assert not Voucher.objects.exists()


@pytest.mark.parametrize(
    ("who", "offer_fields", "reasons"),
    [
        ({"score": 580}, {"min_tier": "good"}, ["tier_too_low"]),
        ({"listed": True}, {}, ["seriously_dishonest"]),
        ({"expired": True}, {}, ["standing_expired"]),
        ({}, {"home_city_rule": "visitors", "min_tier": ""}, ["home_city_not_eligible"]),
        (
            {"score": 580, "listed": True},
            {"min_tier": "good"},
            ["seriously_dishonest", "tier_too_low"],
        ),
    ],
)
def test_ineligible_residents_learn_every_reason(world, merchant, who, offer_fields, reasons):
    offer = publish(merchant=merchant, **{"min_tier": "fair", **offer_fields})
    res = claim(make_resident(**who), offer.pk)
    assert res.status_code == 403
    err = res.json()["error"]
    assert err["code"] == "not_eligible" and err["detail"]["reasons"] == reasons
    assert not Voucher.objects.exists()


def test_min_score_is_converted_for_visitors(world, merchant):
    # 钱江分 ≥ 650 (good band 600–699); 金椰分 good band is 620–719:
    # 650 ↔ 620 + 50·99/99 = 670 in 金椰分.
    offer = publish(merchant=merchant, min_tier="", min_score=650)
    assert claim(make_resident("460100", 669), offer.pk).status_code == 403
    assert claim(make_resident("460100", 670), offer.pk).status_code == 201
    assert claim(make_resident("330100", 649), offer.pk).status_code == 403
    assert claim(make_resident("330100", 650), offer.pk).status_code == 201


def test_listed_home_cities(world, merchant):
    offer = publish(merchant=merchant, min_tier="", home_city_rule="listed")
    offer.eligible_home_cities.set(["460100"])
    assert claim(make_resident("460100"), offer.pk).status_code == 201
    res = claim(make_resident("310100"), offer.pk)
    assert res.json()["error"]["detail"]["reasons"] == ["home_city_not_eligible"]


def test_offers_not_on_sale_are_gone_or_unknown(resident, merchant):
    paused = publish(merchant=merchant, status=Offer.Status.PAUSED)
    future = publish(merchant=merchant, valid_from=timezone.now() + timedelta(days=1))
    draft = publish(merchant=merchant, status=Offer.Status.DRAFT)
    for offer, status, code in [
        (paused, 410, "offer_not_active"),
        (future, 410, "offer_not_active"),
        (draft, 404, "not_found"),
    ]:
        res = claim(resident, offer.pk)
        assert (res.status_code, res.json()["error"]["code"]) == (status, code)
    assert claim(resident, 999_999).status_code == 404


def test_quota_and_per_resident_limit(world, merchant):
    offer = publish(merchant=merchant, total_quota=2, per_resident_limit=2, min_tier="")
    first = make_resident()
    assert claim(first, offer.pk).status_code == 201
    assert claim(first, offer.pk).status_code == 201
    third = claim(first, offer.pk)
    assert (third.status_code, third.json()["error"]["code"]) == (409, "claim_limit_reached")
    other = claim(make_resident(), offer.pk)
    assert (other.status_code, other.json()["error"]["code"]) == (409, "quota_exhausted")
    offer.refresh_from_db()
    assert offer.claimed_count == 2 == Voucher.objects.count()
    assert ClaimTally.objects.get(resident=first).held == 2


def test_same_idempotency_key_replays_the_first_answer(resident, offer):
    first = claim(resident, offer.pk, HTTP_IDEMPOTENCY_KEY="phone-retry-1")
    again = claim(resident, offer.pk, HTTP_IDEMPOTENCY_KEY="phone-retry-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Voucher.objects.count() == 1
    # and a refusal replays too, instead of being re-decided
    other = claim(resident, offer.pk, HTTP_IDEMPOTENCY_KEY="second")
    assert other.json()["error"]["code"] == "claim_limit_reached"
    assert claim(resident, offer.pk, HTTP_IDEMPOTENCY_KEY="second").json() == other.json()


def test_same_key_for_another_request_is_refused(world, resident, merchant, offer):
    another = publish(merchant=merchant, min_tier="")
    assert claim(resident, offer.pk, HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    res = claim(resident, another.pk, HTTP_IDEMPOTENCY_KEY="k-1")
    assert (res.status_code, res.json()["error"]["code"]) == (409, "idempotency_key_reused")
    assert Voucher.objects.count() == 1


def _fingerprint(path: str) -> str:
    import hashlib

    return hashlib.sha256(f"POST {path}\n{{}}".encode()).hexdigest()


@pytest.mark.django_db(transaction=True)
def test_a_repeat_whose_claim_meets_the_first_answer_being_written_is_in_progress(resident, offer):
    """The claim writes its key's answer in its own statement (issue 27): a repeat that read
    no answer, then met the first's answer being written (uncommitted, on another
    connection here), waits for it, undoes its own work and answers 409
    request_in_progress, as api.md says of a repeat while the first is processed; its retry
    replays the first answer."""
    import threading
    import time

    from django.db import connection, transaction

    path = f"/api/v1/offers/{offer.pk}/claim"
    answer = {"code": "FIRST-ANSWER"}
    written, release = threading.Event(), threading.Event()

    def first_attempt():
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    user=resident,
                    scope="claim",
                    key="racing",
                    fingerprint=_fingerprint(path),
                    completed=True,
                    response_status=201,
                    response_body=answer,
                )
                written.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=first_attempt)
    thread.start()
    try:
        assert written.wait(30)

        # the repeat's statement blocks on the uncommitted row: the first commits only
        # once PostgreSQL shows a backend waiting for that lock
        def release_when_blocked():
            try:
                deadline = time.monotonic() + 30
                with connection.cursor() as cur:
                    while time.monotonic() < deadline and not release.is_set():
                        cur.execute(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                            "'Lock' AND datname = current_database()"
                        )
                        if cur.fetchone()[0]:
                            waited.set()
                            break
                        time.sleep(0.01)
            finally:
                release.set()
                connection.close()

        waited = threading.Event()
        watcher = threading.Thread(target=release_when_blocked)
        watcher.start()
        res = claim(resident, offer.pk, HTTP_IDEMPOTENCY_KEY="racing")
        watcher.join(30)
        assert waited.is_set()  # it did wait for the first attempt's row
        assert (res.status_code, res.json()["error"]["code"]) == (409, "request_in_progress")
        assert not Voucher.objects.exists()  # its own work undone
        assert Offer.objects.get(pk=offer.pk).claimed_count == 0
    finally:
        release.set()
        thread.join(30)
    retry = claim(resident, offer.pk, HTTP_IDEMPOTENCY_KEY="racing")
    assert (retry.status_code, retry.json()) == (201, answer)


@pytest.mark.django_db(transaction=True)
def test_a_repeat_while_the_first_is_running_is_in_progress(resident, offer):
    """ "Running" is a first attempt holding its key's row lock (another connection here):
    a repeat answers 409 meanwhile; once that attempt ends without finishing (its
    process died, the database cut it), the repeat does the work at once, once."""
    import threading

    from django.db import connection, transaction

    path = f"/api/v1/offers/{offer.pk}/claim"
    IdempotencyRecord.objects.create(
        user=resident, scope="claim", key="busy", fingerprint=_fingerprint(path)
    )
    locked, release = threading.Event(), threading.Event()

    def first_attempt():
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.select_for_update().get(key="busy")
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=first_attempt)
    thread.start()
    try:
        assert locked.wait(30)
        res = claim(resident, offer.pk, HTTP_IDEMPOTENCY_KEY="busy")
        assert (res.status_code, res.json()["error"]["code"]) == (409, "request_in_progress")
        assert not Voucher.objects.exists()
    finally:
        release.set()
        thread.join(30)
    retry = claim(resident, offer.pk, HTTP_IDEMPOTENCY_KEY="busy")
    assert retry.status_code == 201, retry.content
    again = claim(resident, offer.pk, HTTP_IDEMPOTENCY_KEY="busy")
    assert again.status_code == 201 and again.json() == retry.json()
    assert Voucher.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_work_and_its_recorded_answer_commit_together(resident, offer):
    """A claim whose answer cannot be recorded (the database connection fails at that very
    moment: a trigger raises a connection-failure error) leaves no voucher behind, and the
    retry with the same key issues exactly one."""
    from django.db import connection

    table = IdempotencyRecord._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            "CREATE FUNCTION cut_on_complete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'connection cut' USING ERRCODE = '08006'; END $$"
        )
        cur.execute(
            f"CREATE TRIGGER cut_on_complete BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW "
            "WHEN (NEW.completed) EXECUTE FUNCTION cut_on_complete()"
        )
    try:
        res = claim(resident, offer.pk, HTTP_IDEMPOTENCY_KEY="cut")
        assert res.status_code == 503 and res.json()["error"]["code"] == "service_unavailable"
        assert int(res["Retry-After"]) == res.json()["error"]["detail"]["retry_after"] > 0
        assert not Voucher.objects.exists()
        offer.refresh_from_db()
        assert offer.claimed_count == 0
    finally:
        with connection.cursor() as cur:
            cur.execute(f"DROP TRIGGER cut_on_complete ON {table}")
            cur.execute("DROP FUNCTION cut_on_complete()")
    retry = claim(resident, offer.pk, HTTP_IDEMPOTENCY_KEY="cut")
    assert retry.status_code == 201, retry.content
    assert Voucher.objects.count() == 1
    offer.refresh_from_db()
    assert offer.claimed_count == 1


def test_bad_idempotency_key_is_invalid(resident, offer):
    res = claim(resident, offer.pk, HTTP_IDEMPOTENCY_KEY="x" * 65)
    assert res.status_code == 400 and res.json()["error"]["code"] == "invalid_request"


def test_vouchers_keep_the_terms_they_were_issued_under(world, resident, merchant, offer):
    from merchants.services import publish_offer, revise_offer
    from tests.merchants.factories import city_staff, merchant_staff

    claim(resident, offer.pk)
    revise_offer(actor=merchant_staff(merchant), offer=offer, changes={"title": "新标题"})
    publish_offer(actor=city_staff("330100"), offer=offer)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PUBLISHED and offer.terms_version == 2
    voucher = client_for(resident).get("/api/v1/me/vouchers").json()["results"][0]
    assert voucher["offer"]["title"] != "新标题" and voucher["offer"]["terms_version"] == 1


def test_staff_cannot_claim(world, offer, clerk):
    res = claim(clerk, offer.pk)
    assert res.status_code == 403 and res.json()["error"]["code"] == "permission_denied"


def test_the_voucher_keeps_exactly_the_offers_terms_snapshot(world, merchant):
    """The claim reads the offer's terms in its one statement (incentives.facts): the voucher
    keeps what Offer.terms_snapshot() gives, listed home cities, value and scheme included."""
    from decimal import Decimal

    offer = publish(
        merchant=merchant,
        min_tier="",
        home_city_rule="listed",
        benefit_type="amount_off",
        benefit_value=Decimal("8.50"),
        usage_notes="凭券入园",
    )
    offer.eligible_home_cities.set(["330100", "460100"])
    resident = make_resident()
    res = claim(resident, offer.pk)
    assert res.status_code == 201, res.content
    offer = Offer.objects.select_related("merchant__city__scheme").get(pk=offer.pk)
    assert Voucher.objects.get().terms == offer.terms_snapshot()
    assert offer.terms_snapshot()["eligible_home_cities"] == ["330100", "460100"]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_claim_answer_has_the_documented_shape(resident, offer, language):
    """The claim builds its answer directly (serializers.voucher_payload): the same as
    VoucherOutput gives for the stored voucher."""
    from django.utils import translation

    from incentives.vouchers.serializers import VoucherOutput

    res = claim(resident, offer.pk, HTTP_ACCEPT_LANGUAGE=language)
    assert res.status_code == 201, res.content
    stored = Voucher.objects.get()
    with translation.override(language):
        expected = VoucherOutput(stored, context={"request": res.wsgi_request}).data
    assert res.json() == expected
