"""Write use cases of accounts: registering residents."""

import logging

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from core.errors import INVALID_REQUEST

from .errors import ALREADY_REGISTERED, UNKNOWN_CITY
from .identity import InvalidIdNumber
from .models import City, User

logger = logging.getLogger(__name__)


def register_resident(
    *, phone: str, password: str, real_name: str, id_number: str, home_city_code: str
) -> User:
    """Create a resident. The ID number is kept only as keyed hash, mask and birth date.

    A phone or ID number that is already registered is `409 already_registered`, also
    when two registrations race: the unique constraints decide.
    """
    city = City.objects.filter(code=home_city_code).first()
    if city is None:
        raise UNKNOWN_CITY(home_city=home_city_code)
    user = User(phone=phone, real_name=real_name.strip(), role=User.Role.RESIDENT, home_city=city)
    try:
        user.set_id_number(id_number)
    except InvalidIdNumber as exc:  # the serializer validates first; keep the service safe
        raise INVALID_REQUEST(id_number=[exc.reason]) from None
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise INVALID_REQUEST(password=list(exc.messages)) from None
    user.set_password(password)
    if (
        User.objects.filter(phone=phone).exists()
        or User.objects.filter(id_hash=user.id_hash).exists()
    ):
        raise ALREADY_REGISTERED()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ALREADY_REGISTERED() from None
    logger.info("resident registered user=%s city=%s", user.pk, city.code)
    return user
