"""The person's rights over their data (PIPL arts. 44–47): see everything held about
them, and close the account.

Other apps add what they hold about a person without accounts importing them:
`register_section(name, reader)` from their AppConfig.ready (incentives adds `vouchers`),
and they listen to `accounts.signals.account_closing` to erase or detach their rows.
"""

import secrets
from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.credit.models import Consent, CreditQuery, Standing
from accounts.errors import INVALID_CREDENTIALS
from accounts.legal.models import AgreementAcceptance
from accounts.models import User
from accounts.notices.models import Notice, NoticeSettings
from accounts.notices.services import close_inbox
from accounts.realname.models import IdentityCheck
from accounts.realname.services import audit_ref
from accounts.security.services import forget_phone
from accounts.signals import account_closing
from accounts.sms.models import SmsCode, SmsOutboxMessage
from accounts.tokens import revoke_all

Reader = Callable[[User], Any]
_SECTIONS: dict[str, Reader] = {}


def register_section(name: str, reader: Reader) -> None:
    """Add a section to `GET /api/v1/me/data`: `reader(user)` returns JSON-ready data.
    Issue 14's entitlement uses and incidents plug in here (`entitlement_uses`,
    `incidents`)."""
    _SECTIONS[name] = reader


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _profile(user: User) -> dict:
    return {
        "id": user.pk,
        "phone": user.phone,
        "real_name": user.real_name,
        "id_number": user.id_masked,
        "home_city": user.home_city_id,
        "role": user.role,
        "date_joined": _iso(user.date_joined),
        "last_login": _iso(user.last_login),
    }


def _agreements(user: User) -> list[dict]:
    rows = AgreementAcceptance.objects.filter(user=user).select_related("agreement")
    return [
        {
            "version": a.agreement.version,
            "title": a.agreement.title_zh,
            "accepted_at": _iso(a.accepted_at),
        }
        for a in rows.order_by("accepted_at", "pk")
    ]


def _consents(user: User) -> list[dict]:
    rows = Consent.objects.filter(resident=user).select_related("text").order_by("granted_at", "pk")
    return [
        {
            "id": c.pk,
            "version": c.text.version,
            "granted_at": _iso(c.granted_at),
            "withdrawn_at": _iso(c.withdrawn_at),
        }
        for c in rows
    ]


def _standings(user: User) -> list[dict]:
    rows = Standing.objects.filter(resident=user).select_related("city__scheme", "rule_version")
    return [
        {
            "city": s.city_id,
            "scheme": s.city.scheme.name if s.city.scheme else None,
            "score": s.score,
            "tier": s.tier,
            "seriously_dishonest": s.seriously_dishonest,
            "verified_at": _iso(s.verified_at),
            "valid_until": _iso(s.valid_until),
            "rule_version": s.rule_version.version,
        }
        for s in rows
    ]


def _credit_queries(user: User) -> list[dict]:
    rows = CreditQuery.objects.filter(resident=user).order_by("-created_at", "-pk")
    return [
        {
            "at": _iso(q.created_at),
            "city": q.city_id,
            "requested_by": q.requested_by,
            "purpose": q.purpose,
            "consent": q.consent_id,
            "outcome": q.outcome,
        }
        for q in rows
    ]


def _identity_checks(user: User) -> list[dict]:
    refs = Q(user=user)
    if user.id_hash:
        refs |= Q(person_ref=audit_ref(user.id_hash))
    rows = IdentityCheck.objects.filter(refs).order_by("-created_at", "-pk")
    return [
        {
            "at": _iso(c.created_at),
            "provider": c.provider,
            "purpose": c.purpose,
            "outcome": c.outcome,
        }
        for c in rows
    ]


def _notices(user: User) -> dict:
    from accounts.notices.services import notice_settings
    from accounts.notices.texts import render

    rows = Notice.objects.filter(resident=user).order_by("-created_at", "-id")
    settings_row = NoticeSettings.objects.filter(resident=user).first()
    return {
        "inbox": [
            {
                "kind": n.kind,
                "text": " ".join(render(n.kind, n.params, "zh-hans")),
                "created_at": _iso(n.created_at),
                "read_at": _iso(n.read_at),
            }
            for n in rows
        ],
        "sms": notice_settings(resident=user),
        "language": settings_row.language if settings_row else "",
    }


_BUILTIN: dict[str, Reader] = {
    "profile": _profile,
    "agreements": _agreements,
    "consents": _consents,
    "standings": _standings,
    "credit_queries": _credit_queries,
    "identity_checks": _identity_checks,
    "notices": _notices,
}


def person_data(user: User) -> dict[str, Any]:
    """Everything held about `user`, by section (the built-in ones, then registered)."""
    data: dict[str, Any] = {"generated_at": timezone.now().isoformat()}
    for name, reader in {**_BUILTIN, **_SECTIONS}.items():
        data[name] = reader(user)
    return data


def _closed_phone() -> str:
    # 11 characters like a phone, but never one: login and lookups never match it
    return "x" + secrets.token_hex(5)


def close_account(*, user: User, password: str) -> None:
    """Close the account and erase the person, in one transaction.

    Name, phone, ID hash and mask, standings and SMS traces are erased; consents are
    withdrawn; the credit-query and identity-check audits stay under a pseudonym (the law
    keeps them); other apps cancel open vouchers (quota returned) on `account_closing`;
    every refresh token is revoked and the password made unusable. Vouchers and
    redemptions stay, linked to the anonymous account, so dashboards do not change. The
    same person may register again. A wrong password is `400 invalid_credentials`.
    """
    if not user.check_password(password or ""):
        raise INVALID_CREDENTIALS(http_status=400)
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.closed_at is not None:
            raise INVALID_CREDENTIALS(http_status=400)
        account_closing.send(sender=User, resident_id=user.pk)
        # the inbox goes with the account; the closing notice is an SMS (if allowed)
        close_inbox(user=user, now=now)
        phone, id_hash = user.phone, user.id_hash
        Standing.objects.filter(resident=user).delete()
        Consent.objects.filter(resident=user, withdrawn_at__isnull=True).update(withdrawn_at=now)
        CreditQuery.objects.filter(resident=user).update(id_masked="")
        refs = Q(user=user)
        if id_hash:
            refs |= Q(person_ref=audit_ref(id_hash))
        IdentityCheck.objects.filter(refs).update(person_ref=secrets.token_hex(32))
        SmsCode.objects.filter(phone=phone).delete()
        SmsOutboxMessage.objects.filter(phone=phone).delete()
        forget_phone(phone)
        revoke_all(user)
        user.phone = _closed_phone()
        user.real_name = ""
        user.id_hash = None
        user.id_masked = ""
        user.home_city = None
        user.is_active = False
        user.is_staff = False
        user.last_login = None
        user.closed_at = now
        user.set_unusable_password()
        user.save()
