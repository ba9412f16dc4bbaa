"""Write use cases of accounts: registering residents, logging in by SMS code."""

import logging

from django.db import IntegrityError, transaction

from core.errors import DomainError

from .errors import ALREADY_REGISTERED, INVALID_SMS_CODE, UNKNOWN_CITY
from .legal.models import AgreementAcceptance
from .legal.services import require_current
from .models import City, User
from .realname.models import IdentityCheck
from .realname.services import check_identity
from .security.notices import notify_registration_attempt
from .sms import services as sms
from .sms.models import SmsPurpose

logger = logging.getLogger(__name__)


def register_resident(
    *,
    phone: str,
    sms_code: str,
    password: str,
    real_name: str,
    id_number: str,
    home_city_code: str,
    agreement_version: str | None,
) -> User:
    """Create a resident whose phone is proven by an SMS code, whose name the identity
    provider confirms for the ID number, and who accepts the current user agreement.

    Order matters: the agreement and the city first (no cost), then the SMS code (a wrong
    one counts a try), and only then what could be an oracle about a person (already
    registered? is this their name?), so that each such question costs a proven phone.
    A name refused by the identity provider spends a try of the code, and so does a
    `409 already_registered` (the registered ID's holder is told: an SMS through
    `accounts.security.notices.notify_registration_attempt`). The ID number is
    kept only as keyed hash and mask. A phone or ID number already registered is
    `409 already_registered`, also when two registrations race (unique constraints).
    """
    agreement = require_current(agreement_version)
    city = City.objects.filter(code=home_city_code).first()
    if city is None:
        raise UNKNOWN_CITY(home_city=home_city_code)
    code_id = sms.check_code(phone=phone, purpose=SmsPurpose.REGISTER, code=sms_code, consume=False)
    user = User(phone=phone, real_name=real_name.strip(), role=User.Role.RESIDENT, home_city=city)
    user.set_id_number(id_number)
    user.set_password(password)
    holder = User.objects.filter(id_hash=user.id_hash).first()
    if holder is not None or User.objects.filter(phone=phone).exists():
        # an answer about a person: it spends a try of the code like a refused name, and
        # the ID's holder hears of it (not when it is their own phone registering again)
        sms.spend_try(code_id)
        if holder is not None and holder.phone != phone:
            notify_registration_attempt(holder)
        raise ALREADY_REGISTERED()
    assert user.id_hash is not None  # set by set_id_number above
    try:
        check = check_identity(person_hash=user.id_hash, real_name=user.real_name)
    except DomainError as exc:
        if exc.code == "identity_mismatch":
            sms.spend_try(code_id)
        raise
    try:
        with transaction.atomic():
            sms.spend_code(code_id)
            user.save()
            AgreementAcceptance.objects.create(user=user, agreement=agreement)
            IdentityCheck.objects.filter(pk=check.pk).update(user=user)
    except IntegrityError:
        raise ALREADY_REGISTERED() from None
    logger.info("resident registered user=%s city=%s", user.pk, city.code)
    return user


def login_with_sms_code(*, phone: str, code: str) -> User:
    """The account of `phone` if `code` is its live login code (spent now); a wrong,
    expired or spent code, or a phone with no active account, is `400 invalid_sms_code`."""
    sms.check_code(phone=phone, purpose=SmsPurpose.LOGIN, code=code, consume=True)
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:  # no code was ever sent to it: cannot happen with a right code
        raise INVALID_SMS_CODE(attempts_left=0)
    return user
