"""Write use cases of accounts: registering residents, logging in by SMS code."""

import logging

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

from .errors import ALREADY_REGISTERED, INVALID_CREDENTIALS, UNKNOWN_CITY
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
    expired or spent code, or a phone with no active account, is a failed login:
    `401 invalid_credentials` (docs/api.md), `detail.attempts_left` the code's tries left."""
    try:
        sms.check_code(phone=phone, purpose=SmsPurpose.LOGIN, code=code, consume=True)
    except DomainError as refused:
        if refused.code != "invalid_sms_code":
            raise
        raise _failed_code_login(refused.detail.get("attempts_left", 0)) from None
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:  # no code was ever sent to it: cannot happen with a right code
        raise _failed_code_login(0)
    return user


def _failed_code_login(attempts_left: int) -> DomainError:
    """A failed login by SMS code: the code and status of any failed login, worded for a
    code (clients switch on the code; the message says what to do)."""
    error = INVALID_CREDENTIALS(attempts_left=attempts_left)
    error.message = _("短信验证码不正确或已失效，请重新获取。")
    return error
