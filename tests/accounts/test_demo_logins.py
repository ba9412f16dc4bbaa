"""The demo logins printed by seed_demo say what is true now: a resident who consented
(and verified) while trying the demo is not listed as "not yet consented" any more."""

import io

import pytest
from django.core.management import call_command

from accounts.credit.services import give_consent, query_provider
from accounts.demo import CONSENT_V1
from accounts.models import User

pytestmark = pytest.mark.django_db


def login_line(phone: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return next(line for line in out.getvalue().splitlines() if phone in line)


def test_the_listed_state_follows_consent_and_verification():
    assert login_line("13700000009").endswith("(resident 310100, not yet consented)")
    wu = User.objects.get(phone="13700000009")
    give_consent(resident=wu, version=CONSENT_V1["version"])
    assert login_line("13700000009").endswith("(resident 310100, consented, not yet verified)")
    query_provider(resident_id=wu.pk, purpose="test", requested_by="test")
    assert login_line("13700000009").endswith("(resident 310100)")
    assert login_line("13700000001").endswith("(resident 330100)")
