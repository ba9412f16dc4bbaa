"""Production always requires the second factor of staff, with nobody let through."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register("security", deploy=False)
def staff_second_factor_required(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if getattr(settings, "XINYOU_PROFILE", None) != "production":
        return []
    errors = []
    if not settings.XINYOU_STAFF_2FA:
        errors.append(Error("Production requires the staff second factor.", id="staff_auth.E001"))
    if settings.XINYOU_STAFF_2FA_EXEMPT_PHONES:
        errors.append(
            Error("Production lets no staff account past the second factor.", id="staff_auth.E002")
        )
    if not settings.XINYOU_STAFF_SESSION_POLICY:
        errors.append(Error("Production requires the staff session limits.", id="staff_auth.E003"))
    return errors
