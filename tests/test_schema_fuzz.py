"""Property-based fuzz of the project's own OpenAPI schema (schemathesis).

Every operation, with generated valid and invalid inputs, as an anonymous caller and as
a resident: no 5xx, and every response (errors too) matches the documented schema.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig

from config.wsgi import application
from tests.conftest import bearer


@pytest.fixture
def api_schema(db, cities):
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


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors_and_responses_match_the_schema(case, resident):
    # Schema-valid data may still break a business rule (an ID check digit, a city that
    # is not a partner): those are documented 4xx, so "positive data accepted" is not
    # required; everything else schemathesis checks is.
    for headers in ({}, bearer(resident)):
        auth = {"Authorization": headers["HTTP_AUTHORIZATION"]} if headers else {}
        case.call_and_validate(headers=auth, excluded_checks=[positive_data_acceptance])


@pytest.fixture
def clerk(db, cities):
    from tests.merchants.factories import MerchantFactory, merchant_staff

    return merchant_staff(MerchantFactory(city_id="330100"))


@pytest.mark.slow
@schema.include(path_regex=r"^/api/v1/merchant/(redemptions|scanner)").parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_merchant_endpoints_as_a_clerk(case, clerk):
    # The scanner's endpoints past their permission check: generated batches of offline
    # redemptions (and their history) reach the parser and the service.
    auth = {"Authorization": bearer(clerk)["HTTP_AUTHORIZATION"]}
    case.call_and_validate(headers=auth, excluded_checks=[positive_data_acceptance])
