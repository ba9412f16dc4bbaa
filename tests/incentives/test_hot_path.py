"""The gate's hot paths in statements (issue 18): the caller comes from the access token's
claims, so a redemption is one statement (flip, redemption row and answer; it re-checks
that the caller is an active user on the staff of an active merchant), and revocation
still holds at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.tokens import tokens_for
from incentives.models import IdempotencyRecord, Redemption
from tests.incentives.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def voucher(resident, offer):
    res = client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim")
    assert res.status_code == 201
    return res.json()


def post_redeem(client, token, **headers):
    return client.post("/api/v1/merchant/redemptions", {"token": token}, format="json", **headers)


def test_access_token_carries_the_role_claim(clerk):
    access = tokens_for(clerk).access_token
    assert access["role"] == "merchant_staff" and access["user_id"] == str(clerk.pk)


def test_login_issues_the_role_claim(clerk):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    clerk.set_password("a-long-pass-9")
    clerk.save()
    res = APIClient().post(
        "/api/v1/auth/token", {"phone": clerk.phone, "password": "a-long-pass-9"}, format="json"
    )
    assert res.status_code == 200, res.content
    assert AccessToken(res.json()["access"])["role"] == "merchant_staff"


def test_redemption_is_one_statement(clerk, voucher, django_assert_num_queries):
    client = client_for(clerk)
    with django_assert_num_queries(1) as captured:
        res = post_redeem(client, voucher["token"])
    assert res.status_code == 201, res.content
    sql = captured.captured_queries[0]["sql"]
    assert "is_active" in sql and "INSERT INTO" in sql
    redemption = Redemption.objects.get()
    assert redemption.staff_id == clerk.pk  # the audit of who redeemed


def test_idempotent_redemption_adds_only_the_key_record(clerk, voucher, django_assert_num_queries):
    client = client_for(clerk)
    # the key's row (one INSERT … ON CONFLICT DO NOTHING), then in one transaction with the
    # work (issue 12: the answer is stored with the work, the row locked meanwhile):
    # SAVEPOINT, the row taken FOR UPDATE NOWAIT, the redemption statement, the answer
    # stored, RELEASE
    with django_assert_num_queries(6):
        res = post_redeem(client, voucher["token"], HTTP_IDEMPOTENCY_KEY="gate-1")
    assert res.status_code == 201
    assert IdempotencyRecord.objects.get().user_id == clerk.pk


def test_deactivated_clerk_is_refused_with_a_still_valid_token(clerk, voucher):
    client = client_for(clerk)  # token issued while active, still within its life
    clerk.is_active = False
    clerk.save(update_fields=["is_active"])
    res = post_redeem(client, voucher["token"])
    assert res.status_code == 403 and res.json()["error"]["code"] == "not_merchant_staff"
    assert not Redemption.objects.exists()


def test_clerk_of_a_suspended_merchant_is_refused(clerk, merchant, voucher):
    client = client_for(clerk)
    merchant.status = "suspended"
    merchant.save(update_fields=["status"])
    res = post_redeem(client, voucher["token"])
    assert res.status_code == 403 and res.json()["error"]["code"] == "not_merchant_staff"
    assert not Redemption.objects.exists()


def test_token_without_the_claim_still_works(clerk, voucher):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(clerk).access_token}")
    assert post_redeem(client, voucher["token"]).status_code == 201


def test_resident_token_cannot_redeem(resident, voucher):
    res = post_redeem(client_for(resident), voucher["token"])
    assert res.status_code == 403
    assert not Redemption.objects.exists()


def test_claim_statements(world, merchant):
    from tests.incentives.conftest import make_resident, publish

    offer = publish(merchant=merchant, min_tier="", per_resident_limit=1)
    resident = make_resident()
    client = client_for(resident)
    with CaptureQueriesContext(connection) as ctx:
        res = client.post(f"/api/v1/offers/{offer.pk}/claim", HTTP_IDEMPOTENCY_KEY="c-1")
    assert res.status_code == 201, res.content
    read, take = work_statements(ctx)
    assert "nextval" in read and "idempotencyrecord" in read  # the voucher's id, the key's row
    assert "idempotencyrecord" in take and "INSERT INTO" in take  # the answer, with the work
    record = IdempotencyRecord.objects.get()
    assert (record.completed, record.response_status, record.response_body) == (
        True,
        201,
        res.json(),
    )


# A claim with an Idempotency-Key (issue 27; 7 before, 21 before issue 18): the claim's one
# read (incentives.facts: resident, standing, consent, offer, eligibility, and the key's row
# with the id the voucher will have) and its one take (tally, quota, voucher and the key's
# answer, incentives.idempotency.RECORD_CTE). Without a key, the same two. Each runs in
# autocommit on its own; inside a transaction (a test's) the take also takes a savepoint
# (facts.run_take), which `work_statements` leaves out.
CLAIM_STATEMENTS = 2


def work_statements(ctx) -> list[str]:
    """The statements of a captured request, savepoints left out."""
    sqls = [q["sql"] for q in ctx.captured_queries]
    work = [sql for sql in sqls if "SAVEPOINT" not in sql]
    assert len(work) == CLAIM_STATEMENTS, sqls
    return work


def test_closed_account_cannot_claim_with_a_still_valid_token(resident, offer):
    """The claim takes the caller from the token's claims; its read re-checks that the
    account is still an active resident: a closed account is refused as before (401)."""
    from accounts.privacy import close_account
    from incentives.models import Voucher

    client = client_for(resident)  # token issued while open, still within its life
    resident.set_password("a-long-pass-9")
    resident.save()
    close_account(user=resident, password="a-long-pass-9")
    res = client.post(f"/api/v1/offers/{offer.pk}/claim")
    assert res.status_code == 401 and res.json()["error"]["code"] == "not_authenticated"
    assert not Voucher.objects.exists()


def test_deactivated_resident_cannot_claim_with_a_still_valid_token(resident, offer):
    from incentives.models import Voucher

    client = client_for(resident)
    resident.is_active = False
    resident.save(update_fields=["is_active"])
    res = client.post(f"/api/v1/offers/{offer.pk}/claim", HTTP_IDEMPOTENCY_KEY="k-1")
    assert res.status_code == 401 and res.json()["error"]["code"] == "not_authenticated"
    assert not Voucher.objects.exists()


def test_a_resident_whose_role_changed_cannot_claim_with_a_still_valid_token(resident, offer):
    from incentives.models import Voucher

    client = client_for(resident)  # the token still says "resident"
    resident.role = "merchant_staff"
    resident.save(update_fields=["role"])
    res = client.post(f"/api/v1/offers/{offer.pk}/claim")
    assert res.status_code == 403 and res.json()["error"]["code"] == "permission_denied"
    assert not Voucher.objects.exists()


_values = st.one_of(
    st.none(), st.integers(), st.text(max_size=300), st.sampled_from(["", " XV1.A ", "XV1.AB"])
)


@settings(max_examples=400, deadline=None)
@given(
    data=st.one_of(
        st.dictionaries(st.sampled_from(["token", "code", "other"]), _values, max_size=3),
        st.lists(st.integers(), max_size=2),
        st.text(max_size=5),
    )
)
def test_the_redemption_fast_parse_answers_what_the_serializer_answers(data):
    """voucher_ref takes a plain token as it is and leaves the rest to VoucherRefInput:
    whatever the body, the validated data or the error is the serializer's."""
    from incentives.vouchers.serializers import VoucherRefInput, voucher_ref

    assert_answers_as_the_serializer(voucher_ref, VoucherRefInput, data)


def assert_answers_as_the_serializer(parse, serializer_class, data) -> None:
    from rest_framework.exceptions import ValidationError

    body = serializer_class(data=data)
    if body.is_valid():
        assert parse(data) == dict(body.validated_data)
    else:
        with pytest.raises(ValidationError) as raised:
            parse(data)
        assert raised.value.detail == body.errors


@settings(max_examples=400, deadline=None)
@given(
    data=st.one_of(
        st.dictionaries(
            st.sampled_from(["token", "offer_id", "other"]),
            st.one_of(
                _values,
                st.booleans(),
                st.floats(allow_nan=False),
                st.integers(min_value=-5, max_value=2**64),
                st.sampled_from([2**63 - 1, 2**63, "12", 7.0]),
            ),
            max_size=3,
        ),
        st.lists(st.integers(), max_size=2),
    )
)
def test_the_pass_check_fast_parse_answers_what_the_serializer_answers(data):
    from incentives.passes.serializers import PassCheckInput, pass_check_ref

    assert_answers_as_the_serializer(pass_check_ref, PassCheckInput, data)


def test_the_redemption_statement_is_prepared_once_per_connection(clerk, voucher):
    """core.db: the hot statements are planned once per connection (a named prepared
    statement), not at every request."""
    assert post_redeem(client_for(clerk), voucher["token"]).status_code == 201
    with connection.cursor() as cur:
        cur.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cur.fetchall()]
    assert any("staff_merchant" in sql and "INSERT INTO" in sql for sql in prepared), prepared


def test_without_prepared_statements_the_hot_paths_still_run(clerk, resident, offer):
    """Behind PgBouncer's transaction pooling (DATABASE_POOLER=transaction) psycopg prepares
    nothing: the same statements then run planned each time."""

    def prepared() -> int:
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_prepared_statements")
            return cur.fetchone()[0]

    connection.ensure_connection()
    raw = connection.connection
    before, raw.prepare_threshold = raw.prepare_threshold, None
    try:
        already = prepared()  # the session's earlier tests may have prepared some
        res = client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim")
        assert res.status_code == 201, res.content
        assert post_redeem(client_for(clerk), res.json()["token"]).status_code == 201
        assert prepared() == already
    finally:
        raw.prepare_threshold = before


def test_a_code_clash_under_a_key_draws_again(resident, offer, monkeypatch):
    """A voucher code drawn twice (29^9 codes: forced here) aborts the take, which undoes
    itself (the key's answer included): the claim draws again and succeeds, with one
    voucher, one place, one tally and the key's answer naming the new code."""
    from incentives import signing
    from incentives.models import ClaimTally, Voucher
    from merchants.models import Offer
    from tests.incentives.conftest import make_resident

    someone = client_for(make_resident()).post(f"/api/v1/offers/{offer.pk}/claim")
    taken = someone.json()["code"]
    draws, real = iter([taken]), signing.new_code
    monkeypatch.setattr(signing, "new_code", lambda: next(draws, None) or real())
    path = f"/api/v1/offers/{offer.pk}/claim"
    with CaptureQueriesContext(connection) as ctx:
        res = client_for(resident).post(path, HTTP_IDEMPOTENCY_KEY="c")
    assert res.status_code == 201, res.content
    assert res.json()["code"] != taken
    takes = [q["sql"] for q in ctx.captured_queries if "INSERT INTO" in q["sql"]]
    assert len(takes) == 2  # the clash, then the new draw
    assert Voucher.objects.filter(resident=resident).count() == 1
    assert ClaimTally.objects.get(offer=offer, resident=resident).held == 1
    assert Offer.objects.get(pk=offer.pk).claimed_count == 2  # the other voucher's and this
    record = IdempotencyRecord.objects.get(user=resident)
    assert record.response_body == res.json()
    again = client_for(resident).post(path, HTTP_IDEMPOTENCY_KEY="c")
    assert (again.status_code, again.json()) == (201, res.json())
