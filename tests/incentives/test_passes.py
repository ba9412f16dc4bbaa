"""The personal credit pass (信用码): signing and type separation, issuing, and checking
it at the counter (eligibility, limits, bad input — and nothing recorded on refusal)."""

import base64
import datetime as dt
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.credit.models import Consent
from incentives import signing
from incentives.models import EntitlementTally, EntitlementUse, Incident, RefusalCount
from incentives.passes.services import period_bounds
from merchants.models import Offer

from .conftest import client_for, make_resident, publish

pytestmark = pytest.mark.django_db


def entitlement(merchant, **fields) -> Offer:
    fields.setdefault("kind", Offer.Kind.ENTITLEMENT)
    fields.setdefault("scenario", "stay")
    fields.setdefault("category", "hotel")
    fields.setdefault("benefit_type", "deposit_waiver")
    fields.setdefault("benefit_value", None)
    fields.setdefault("limit_per_period", 1)
    fields.setdefault("period", "day")
    fields.setdefault("min_tier", "good")
    return publish(merchant=merchant, **fields)


def pass_of(resident) -> dict:
    res = client_for(resident).get("/api/v1/me/credit/pass")
    assert res.status_code == 200, res.content
    return res.json()


def check(clerk, token, offer, **headers):
    return client_for(clerk).post(
        "/api/v1/merchant/pass-checks",
        {"token": token, "offer_id": offer.pk},
        format="json",
        **headers,
    )


def nothing_recorded():
    return not EntitlementUse.objects.exists() and not EntitlementTally.objects.exists()


# --------------------------------------------------------------------------- signing


def test_a_pass_round_trips_and_is_not_a_voucher(world):
    expires = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    token = signing.sign_pass(resident_id=42, expires_at=expires, pass_id=7)
    claims = signing.verify_pass(token)
    assert (claims.resident_id, claims.pass_id, claims.expires_at) == (42, 7, expires)
    with pytest.raises(signing.InvalidToken, match="pass_token"):
        signing.verify(token)
    voucher = signing.sign(kid=signing.active_key().kid, voucher_id=42, expires_at=expires)
    with pytest.raises(signing.InvalidToken, match="voucher_token"):
        signing.verify_pass(voucher)


def test_a_voucher_signature_relabelled_as_a_pass_does_not_verify(world):
    """Same key, same bytes: the pass's signed message is domain-separated, so copying a
    voucher's body and signature under the pass prefix fails."""
    expires = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    voucher = signing.sign(kid=signing.active_key().kid, voucher_id=42, expires_at=expires)
    relabelled = signing.PASS_PREFIX + voucher[len(signing.PREFIX) :]
    with pytest.raises(signing.InvalidToken):
        signing.verify_pass(relabelled)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    position=st.integers(min_value=0, max_value=200),
    replacement=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567.-=0189xy "),
    drop=st.booleans(),
)
def test_any_tampered_pass_is_refused(position, replacement, drop):
    expires = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    token = signing.sign_pass(resident_id=1234, expires_at=expires, pass_id=99)
    i = position % len(token)
    tampered = token[:i] + ("" if drop else replacement) + token[i + 1 :]
    if tampered.strip().upper() == token:
        return
    try:
        claims = signing.verify_pass(tampered)
    except signing.InvalidToken:
        return
    # base32's unused trailing bits: a different spelling of the very same bytes
    assert (claims.resident_id, claims.pass_id, claims.expires_at) == (1234, 99, expires)


@given(st.text(max_size=300))
def test_garbage_is_never_a_pass_nor_a_crash(text):
    with pytest.raises(signing.InvalidToken):
        signing.verify_pass(text)


def test_a_pass_signed_by_an_unknown_key_is_refused(world, settings):
    token = signing.sign_pass(resident_id=1, expires_at=timezone.now() + timedelta(minutes=5))
    settings.VOUCHER_SIGNING_KEYS = [
        {"kid": "Z9", "private_key": base64.b64encode(b"\x09" * 32).decode()}
    ]
    settings.VOUCHER_ACTIVE_KID = "Z9"
    with pytest.raises(signing.InvalidToken, match="unknown_key"):
        signing.verify_pass(token)


def test_periods_follow_the_shanghai_calendar():
    at = dt.datetime(2026, 11, 29, 17, 30, tzinfo=dt.UTC)  # Monday 01:30 in Shanghai
    assert period_bounds("day", at)[0] == dt.date(2026, 11, 30)
    assert period_bounds("week", at)[0] == dt.date(2026, 11, 30)
    start, after = period_bounds("month", at)
    assert start == dt.date(2026, 11, 1) and after.isoformat() == "2026-12-01T00:00:00+08:00"
    assert period_bounds("offer", at) == (dt.date(1, 1, 1), None)


# --------------------------------------------------------------------------- the pass


def test_a_resident_gets_a_short_lived_pass_without_score(resident):
    data = pass_of(resident)
    assert set(data) >= {"token", "expires_at", "tier", "home_city", "holder", "qr_png_url"}
    expires = dt.datetime.fromisoformat(data["expires_at"])
    assert timezone.now() < expires <= timezone.now() + timedelta(minutes=5)
    assert 0 < data["valid_seconds"] <= 300
    assert data["tier"] == "excellent" and data["home_city"]["code"] == "330100"
    assert "score" not in data and "*" in data["holder"]
    assert signing.verify_pass(data["token"]).resident_id == resident.pk
    client = client_for(resident)
    png = client.get(data["qr_png_url"])
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    svg = client.get(data["qr_svg_url"])
    assert svg.status_code == 200 and b"<svg" in svg.content


def test_the_qr_of_someone_elses_pass_is_not_found(resident):
    data = pass_of(resident)
    other = make_resident()
    assert client_for(other).get(data["qr_png_url"]).status_code == 404


@pytest.mark.parametrize(
    "kwargs, status, code, reasons",
    [
        ({"consent": False}, 403, "consent_required", None),
        ({"listed": True}, 403, "not_eligible", ["seriously_dishonest"]),
        ({"expired": True}, 403, "not_eligible", ["standing_expired"]),
    ],
)
def test_no_pass_without_consent_or_for_a_listed_or_lapsed_person(
    world, kwargs, status, code, reasons
):
    res = client_for(make_resident(**kwargs)).get("/api/v1/me/credit/pass")
    assert res.status_code == status
    assert res.json()["error"]["code"] == code
    if reasons:
        assert res.json()["error"]["detail"]["reasons"] == reasons


def test_no_pass_without_a_standing(world):
    from tests.factories import ResidentFactory

    resident = ResidentFactory(home_city_id="330100")
    from accounts.credit.models import ConsentText

    Consent.objects.create(resident=resident, text=ConsentText.objects.get(is_current=True))
    res = client_for(resident).get("/api/v1/me/credit/pass")
    assert (res.status_code, res.json()["error"]["code"]) == (403, "no_standing")


# --------------------------------------------------------------------------- the check


def test_a_counter_applies_an_entitlement_once_and_sees_only_the_masked_holder(
    resident, merchant, clerk
):
    offer = entitlement(merchant)
    token = pass_of(resident)["token"]
    res = check(clerk, token, offer)
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["offer"]["id"] == offer.pk and body["offer"]["scenario"] == "stay"
    assert "*" in body["holder"]["name"] and body["holder"]["name"] != resident.real_name
    assert body["holder"]["id_last4"] == resident.id_last4
    flat = str(body)
    assert "score" not in flat and "tier" not in flat and "excellent" not in flat
    use = EntitlementUse.objects.get()
    assert (use.resident_id, use.offer_id, use.merchant_id) == (resident.pk, offer.pk, merchant.pk)
    assert EntitlementTally.objects.get().used == 1
    again = check(clerk, token, offer)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "pass_already_used")
    assert EntitlementUse.objects.count() == 1


def test_an_offer_paused_by_the_merchants_credit_is_refused_at_the_counter(
    resident, merchant, clerk
):
    """The enterprise credit sync (issue 15) pauses a D-graded merchant's offers: its
    entitlements are refused like any offer not published, and nothing is recorded."""
    from merchants.credit.services import pause_offers_of_bad_merchants

    offer = entitlement(merchant)
    token = pass_of(resident)["token"]
    merchant.credit_grade = "D"
    merchant.save(update_fields=["credit_grade"])
    assert pause_offers_of_bad_merchants(merchant_ids=[merchant.pk]) == 1
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PAUSED and offer.credit_paused_at is not None
    res = check(clerk, token, offer)
    assert res.status_code == 410, res.content
    assert res.json()["error"] == {
        "code": "offer_not_active",
        "message": res.json()["error"]["message"],
        "detail": {"status": "paused"},
    }
    assert nothing_recorded()


def test_the_same_pass_below_the_limit_is_refused_and_the_tally_undone(resident, merchant, clerk):
    """The statement that finds the pass already used after moving the tally aborts itself:
    the tally keeps counting uses, not attempts."""
    offer = entitlement(merchant, limit_per_period=5)
    token = pass_of(resident)["token"]
    assert check(clerk, token, offer).status_code == 201
    again = check(clerk, token, offer)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "pass_already_used")
    assert EntitlementTally.objects.get().used == 1
    assert check(clerk, pass_of(resident)["token"], offer).status_code == 201
    assert EntitlementTally.objects.get().used == 2


def test_the_per_period_limit_holds_across_fresh_passes(resident, merchant, clerk):
    offer = entitlement(merchant, limit_per_period=2, period="week")
    assert check(clerk, pass_of(resident)["token"], offer).status_code == 201
    assert check(clerk, pass_of(resident)["token"], offer).status_code == 201
    third = check(clerk, pass_of(resident)["token"], offer)
    assert (third.status_code, third.json()["error"]["code"]) == (409, "usage_limit_reached")
    detail = third.json()["error"]["detail"]
    _start, after = period_bounds("week", timezone.now())
    assert detail["next_available_at"] == after.isoformat()
    assert EntitlementUse.objects.count() == 2 and EntitlementTally.objects.get().used == 2
    refused = RefusalCount.objects.get()
    assert (refused.reason, refused.source, refused.count) == (
        "usage_limit_reached",
        "pass_check",
        1,
    )


def test_a_limit_per_offer_has_no_next_time(resident, merchant, clerk):
    offer = entitlement(merchant, period="offer")
    assert check(clerk, pass_of(resident)["token"], offer).status_code == 201
    res = check(clerk, pass_of(resident)["token"], offer)
    assert res.json()["error"]["detail"]["next_available_at"] is None


def test_the_same_pass_applies_to_two_offers(resident, merchant, clerk):
    one, two = entitlement(merchant), entitlement(merchant, title="优先通道")
    token = pass_of(resident)["token"]
    assert check(clerk, token, one).status_code == 201
    assert check(clerk, token, two).status_code == 201


def _expired_pass(resident) -> str:
    return signing.sign_pass(
        resident_id=resident.pk, expires_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.mark.parametrize(
    "make_token, status, code",
    [
        (lambda r, v: "garbage", 400, "invalid_token"),
        (lambda r, v: v, 400, "invalid_token"),  # a voucher where a pass is expected
        (lambda r, v: _expired_pass(r), 410, "pass_expired"),
    ],
)
def test_bad_tokens_are_refused_with_clear_codes_and_nothing_recorded(
    resident, merchant, clerk, make_token, status, code
):
    offer = entitlement(merchant)
    voucher_offer = publish(merchant=merchant, min_tier="")
    voucher = client_for(resident).post(f"/api/v1/offers/{voucher_offer.pk}/claim").json()
    res = check(clerk, make_token(resident, voucher["token"]), offer)
    assert (res.status_code, res.json()["error"]["code"]) == (status, code)
    assert nothing_recorded() and not RefusalCount.objects.exists()


def test_a_pass_is_not_a_voucher_at_redemption(resident, merchant, clerk):
    token = pass_of(resident)["token"]
    res = client_for(clerk).post("/api/v1/merchant/redemptions", {"token": token}, format="json")
    assert (res.status_code, res.json()["error"]["code"]) == (400, "invalid_token")
    assert res.json()["error"]["detail"]["reason"] == "pass_token"


def test_another_merchants_offer_or_a_voucher_offer_or_no_offer(
    resident, merchant, clerk, other_clerk
):
    offer = entitlement(merchant)
    token = pass_of(resident)["token"]
    res = check(other_clerk, token, offer)
    assert (res.status_code, res.json()["error"]["code"]) == (403, "wrong_merchant")
    voucher_offer = publish(merchant=merchant, min_tier="")
    res = check(clerk, token, voucher_offer)
    assert (res.status_code, res.json()["error"]["code"]) == (400, "invalid_request")
    res = client_for(clerk).post(
        "/api/v1/merchant/pass-checks", {"token": token, "offer_id": 10**9}, format="json"
    )
    assert (res.status_code, res.json()["error"]["code"]) == (404, "not_found")
    res = client_for(resident).post(
        "/api/v1/merchant/pass-checks", {"token": token, "offer_id": offer.pk}, format="json"
    )
    assert res.status_code == 403
    assert nothing_recorded() and not RefusalCount.objects.exists()


@pytest.mark.parametrize(
    "change, reasons",
    [
        ("listed", ["seriously_dishonest"]),
        ("lapsed", ["standing_expired"]),
        ("withdrawn", ["consent_withdrawn"]),
        ("low_tier", ["tier_too_low"]),
    ],
)
def test_the_holder_must_be_eligible_now(resident, merchant, clerk, change, reasons):
    offer = entitlement(merchant, min_tier="excellent" if change == "low_tier" else "good")
    token = pass_of(resident)["token"]  # issued while all was well
    standing = resident.standing
    if change == "listed":
        standing.seriously_dishonest = True
    elif change == "lapsed":
        standing.valid_until = timezone.now() - timedelta(seconds=1)
    elif change == "low_tier":
        standing.tier, standing.score = "good", 650
    standing.save()
    if change == "withdrawn":
        Consent.objects.filter(resident=resident).update(withdrawn_at=timezone.now())
    res = check(clerk, token, offer)
    assert (res.status_code, res.json()["error"]["code"]) == (403, "not_eligible")
    assert res.json()["error"]["detail"]["reasons"] == reasons
    assert nothing_recorded()
    refused = RefusalCount.objects.get()
    assert (refused.reason, refused.count, refused.scenario) == (reasons[0], 1, "stay")


def test_a_suspended_resident_is_refused_with_the_end_date(resident, merchant, clerk):
    offer = entitlement(merchant)
    other_scenario = entitlement(merchant, scenario="travel", title="优先登船")
    token = pass_of(resident)["token"]
    until = timezone.now() + timedelta(days=90)
    Incident.objects.create(
        merchant=merchant,
        dest_city_id="330100",
        resident=resident,
        offer=offer,
        scenario="stay",
        voucher=None,
        use=EntitlementUse.objects.create(
            offer=offer,
            resident=resident,
            merchant=merchant,
            staff=clerk,
            pass_id=-1,
            period_start=dt.date(2020, 1, 1),
            scenario="stay",
            category="hotel",
            dest_city_id="330100",
            home_city_id="330100",
        ),
        kind="deposit_default",
        status="confirmed",
        reported_by=clerk,
        suspended_until=until,
    )
    res = check(clerk, token, offer)
    assert res.json()["error"]["code"] == "not_eligible"
    detail = res.json()["error"]["detail"]
    assert detail["reasons"] == ["suspended"]
    assert dt.datetime.fromisoformat(detail["suspended_until"]) == until
    assert check(clerk, token, other_scenario).status_code == 201  # other scenarios go on


def test_a_check_runs_a_fixed_number_of_statements(resident, merchant, clerk, settings):
    """Whatever the offer and the resident: one statement (issue 27; two before), which
    reads the offer, holder, standing, consent, suspension and that the caller is still
    active staff, and takes where all of them let it; the caller comes from the access
    token's claims, with no statement (issue 18)."""
    offer = entitlement(merchant, limit_per_period=50)
    client = client_for(clerk)
    counts = []
    for _ in range(3):
        token = pass_of(resident)["token"]
        with CaptureQueriesContext(connection) as ctx:
            res = client.post(
                "/api/v1/merchant/pass-checks",
                {"token": token, "offer_id": offer.pk},
                format="json",
            )
        assert res.status_code == 201
        counts.append(len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]))
    assert counts == [1, 1, 1], counts


def test_the_long_hot_statements_are_converted_once_per_process(
    resident, merchant, clerk, offer, monkeypatch
):
    """core.db: psycopg caches the conversion of a statement's placeholders only for texts
    up to 4,096 bytes; the pass check's statement and the claim's read are longer, and
    were parsed again at every request (issue 27). After a first check and claim, the
    next ones convert neither; with the cache emptied, the next check converts its
    statement again (so the spy sees what it should)."""
    from psycopg import _queries

    from core.db import _converted
    from incentives.facts import _claim_read_sql
    from incentives.passes.services import _check_sql

    long_ones = {_check_sql().encode(), _claim_read_sql().encode()}
    assert all(len(sql) > _queries.MAX_CACHED_STATEMENT_LENGTH for sql in long_ones)
    entitled = entitlement(merchant, limit_per_period=50)
    claimer = client_for(resident)
    assert check(clerk, pass_of(resident)["token"], entitled).status_code == 201
    assert claimer.post(f"/api/v1/offers/{offer.pk}/claim").status_code == 201
    converted: list[bytes] = []
    convert = _queries._query2pg_nocache

    def spy(query: bytes, encoding: str):
        converted.append(query)
        return convert(query, encoding)

    monkeypatch.setattr(_queries, "_query2pg_nocache", spy)
    for _ in range(2):
        assert check(clerk, pass_of(resident)["token"], entitled).status_code == 201
    another = publish(merchant=merchant, min_tier="good", total_quota=5, per_resident_limit=1)
    assert claimer.post(f"/api/v1/offers/{another.pk}/claim").status_code == 201
    assert not long_ones & set(converted)
    _converted.cache_clear()
    assert check(clerk, pass_of(resident)["token"], entitled).status_code == 201
    assert converted.count(_check_sql().encode()) == 1


def test_an_offer_with_a_minimum_score_is_checked_in_two_statements(resident, merchant, clerk):
    """A minimum score or grade is decided in Python (the holder's score in the offer city's
    scheme): the one statement does not take, Python decides, and the same statement runs
    again with Python's decision and takes, with the same answers (issue 27)."""
    met = entitlement(merchant, min_tier="", min_score=700)  # the resident has 720
    token = pass_of(resident)["token"]
    with CaptureQueriesContext(connection) as ctx:
        res = check(clerk, token, met)
    assert res.status_code == 201, res.content
    work = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(work) >= 2 and "INSERT INTO" in work[0] and "INSERT INTO" in work[-1], work
    assert EntitlementTally.objects.get(offer=met).used == 1
    again = check(clerk, token, met)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "pass_already_used")
    third = check(clerk, pass_of(resident)["token"], met)
    assert (third.status_code, third.json()["error"]["code"]) == (409, "usage_limit_reached")
    assert EntitlementUse.objects.filter(offer=met).count() == 1
    assert RefusalCount.objects.get().reason == "usage_limit_reached"
    missed = entitlement(merchant, min_tier="", min_score=800)
    res = check(clerk, pass_of(resident)["token"], missed)
    assert (res.status_code, res.json()["error"]["detail"]["reasons"]) == (403, ["score_too_low"])
    assert not EntitlementUse.objects.filter(offer=missed).exists()


def test_a_deactivated_clerk_is_refused_with_a_still_valid_token(resident, merchant, clerk):
    """The caller comes from the token's claims, so the read itself must refuse a clerk
    deactivated since the token was issued (revocation within the token's life)."""
    offer = entitlement(merchant)
    client = client_for(clerk)  # the token is issued while the clerk is active
    clerk.is_active = False
    clerk.save(update_fields=["is_active"])
    res = client.post(
        "/api/v1/merchant/pass-checks",
        {"token": pass_of(resident)["token"], "offer_id": offer.pk},
        format="json",
    )
    assert res.status_code == 403 and res.json()["error"]["code"] == "not_merchant_staff"
    assert not EntitlementUse.objects.exists()


def test_idempotency_key_replays_the_first_answer(resident, merchant, clerk):
    offer = entitlement(merchant)
    token = pass_of(resident)["token"]
    first = check(clerk, token, offer, HTTP_IDEMPOTENCY_KEY="k-1")
    again = check(clerk, token, offer, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert EntitlementUse.objects.count() == 1


# --------------------------------------------------------------------------- offers


def test_offers_carry_kind_and_scenario_and_filter_by_them(resident, merchant):
    stay = entitlement(merchant)
    publish(merchant=merchant, min_tier="", category="scenic")
    client = client_for(resident)
    everything = client.get("/api/v1/offers").json()["results"]
    assert {o["scenario"] for o in everything} == {"stay", "travel"}
    found = client.get("/api/v1/offers", {"scenario": "stay"}).json()["results"]
    assert [o["id"] for o in found] == [stay.pk]
    assert found[0]["kind"] == "entitlement" and found[0]["limit_per_period"] == 1
    assert found[0]["period"] == "day"
    assert client.get("/api/v1/offers", {"scenario": "nowhere"}).status_code == 400
    kinds = client.get("/api/v1/offers", {"kind": "voucher"}).json()["results"]
    assert {o["kind"] for o in kinds} == {"voucher"}


def test_an_entitlement_cannot_be_claimed(resident, merchant):
    offer = entitlement(merchant)
    res = client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim")
    assert (res.status_code, res.json()["error"]["code"]) == (409, "offer_not_claimable")


def test_a_refused_claim_is_counted_by_its_first_reason(world, merchant):
    offer = publish(merchant=merchant, min_tier="excellent")
    res = client_for(make_resident(score=610)).post(f"/api/v1/offers/{offer.pk}/claim")
    assert res.json()["error"]["code"] == "not_eligible"
    refused = RefusalCount.objects.get()
    assert (refused.source, refused.reason, refused.dest_city_id) == (
        "claim",
        "tier_too_low",
        "330100",
    )


def test_the_merchant_lists_its_entitlement_offers_and_uses(resident, merchant, clerk):
    offer = entitlement(merchant)
    publish(merchant=merchant, min_tier="")
    client = client_for(clerk)
    mine = client.get("/api/v1/merchant/offers", {"kind": "entitlement"}).json()["results"]
    assert [o["id"] for o in mine] == [offer.pk]
    check(clerk, pass_of(resident)["token"], offer)
    uses = client.get("/api/v1/merchant/pass-checks").json()["results"]
    assert len(uses) == 1 and uses[0]["holder"]["id_last4"] == resident.id_last4
    mine = client_for(resident).get("/api/v1/me/entitlement-uses").json()["results"]
    assert [u["offer"]["id"] for u in mine] == [offer.pk]
