"""Telling a person that someone did something with their identity.

`notify_registration_attempt(user)` is the one hook for "someone tried to register with
your ID number": today an SMS through the configured gateway (accounts.sms); the in-app
notices inbox can extend this function (add its notice next to the SMS) without touching
the registration path that calls it.
"""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import User
from accounts.sms.gateways import SmsUnavailable
from accounts.sms.registry import gateway

logger = logging.getLogger("xinyou.security")

TEMPLATE_REGISTRATION_ATTEMPT = "registration_attempt"


def notify_registration_attempt(user: User) -> bool:
    """Tell `user` (the registered holder of an ID number) that someone else tried to
    register with it. At most one message per holder per
    REGISTRATION_NOTICE_INTERVAL_SECONDS (an attacker with many codes must not flood the
    holder's phone); a gateway failure is logged, never raised: the attempt's answer does
    not depend on it. Returns whether a message went out."""
    if not user.phone or not user.is_active:
        return False
    interval = int(getattr(settings, "REGISTRATION_NOTICE_INTERVAL_SECONDS", 3600))
    try:
        first = cache.add(f"registration-notice:{user.pk}", 1, interval)
    except Exception:
        first = True
    if not first:
        return False
    with override("zh-hans"):
        text = _(
            "【信游】有人尝试用您的身份证号注册信游账号，未成功。如非本人操作，请留意个人信息安全。"
        )
    try:
        gateway().send_notice(
            phone=user.phone,
            kind=TEMPLATE_REGISTRATION_ATTEMPT,
            text=text,
            request_id=uuid.uuid4().hex,
        )
    except SmsUnavailable as exc:
        logger.warning("registration-attempt notice not sent user=%s: %s", user.pk, exc)
        return False
    logger.info("registration-attempt notice sent user=%s", user.pk)
    return True
