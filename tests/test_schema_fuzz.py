"""Property-based fuzz of the project's own OpenAPI schema (schemathesis).

Every operation, with generated valid and invalid inputs, as four callers: anonymous, a
resident, merchant staff and city staff, over a world with published offers, issued and
redeemed vouchers and dashboard figures (so that responses carry real objects to check):
no 5xx, and every response (errors too) matches the documented schema. The number of
calls made is printed at the end of the run and written to
test-artifacts/schema-fuzz.json.
"""

import json
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig

from config.wsgi import application
from tests.conftest import ARTIFACTS, bearer

CALLERS = ("anonymous", "resident", "merchant_staff", "city_staff")
# (operation, caller) -> calls; read by tests/conftest.py's terminal summary
CALLS: Counter = Counter()
STATUSES: Counter = Counter()


@pytest.fixture
def fuzz_world(db):
    """Offers, vouchers (issued and redeemed) and a redemption, and one user per role."""
    from accounts.reference import load_reference_data
    from incentives.vouchers import services
    from tests.incentives.conftest import make_resident, publish
    from tests.merchants.factories import MerchantFactory, city_staff, merchant_staff

    load_reference_data()
    merchant = MerchantFactory(city_id="330100", name="西湖游船")
    offers = [
        publish(merchant=merchant, min_tier="", total_quota=50, per_resident_limit=5),
        publish(merchant=merchant, min_tier="excellent", total_quota=None),
    ]
    resident = make_resident()
    clerk = merchant_staff(merchant)
    issued = services.claim_offer(resident_id=resident.pk, offer_id=offers[0].pk)
    redeemed = services.claim_offer(resident_id=resident.pk, offer_id=offers[0].pk)
    services.redeem_voucher(staff_id=clerk.pk, code=redeemed.code)
    return {
        "anonymous": None,
        "resident": resident,
        "merchant_staff": clerk,
        "city_staff": city_staff("330100"),
        "issued": issued,
    }


@pytest.fixture
def api_schema(fuzz_world):
    # In-process WSGI calls would close the test's database connection at the end of each
    # request (as Django's own test client avoids too): keep it open while fuzzing.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # Unknown query parameters are ignored, as HTTP APIs usually do; everything the
    # schema describes is checked, including values it forbids.
    config = SchemathesisConfig.from_dict({"generation": {"allow-extra-parameters": False}})
    yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=config)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="module", autouse=True)
def _record_counts():
    yield
    if CALLS:
        ARTIFACTS.mkdir(exist_ok=True)
        report = {
            "calls": sum(CALLS.values()),
            "operations": len({op for op, _ in CALLS}),
            "by_caller": {c: sum(n for (_, who), n in CALLS.items() if who == c) for c in CALLERS},
            "by_status": {str(k): v for k, v in sorted(STATUSES.items())},
            "by_operation": {f"{op} as {who}": n for (op, who), n in sorted(CALLS.items())},
        }
        (ARTIFACTS / "schema-fuzz.json").write_text(json.dumps(report, indent=2))


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors_and_responses_match_the_schema(case, fuzz_world):
    # Schema-valid data may still break a business rule (an ID check digit, a city that
    # is not a partner): those are documented 4xx, so "positive data accepted" is not
    # required; everything else schemathesis checks is.
    for who in CALLERS:
        user = fuzz_world[who]
        auth = {"Authorization": bearer(user)["HTTP_AUTHORIZATION"]} if user else {}
        response = case.call_and_validate(headers=auth, excluded_checks=[positive_data_acceptance])
        CALLS[(case.operation.label, who)] += 1
        STATUSES[response.status_code] += 1
