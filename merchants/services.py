"""Use cases that change offers and stations: create, revise, delete, every step of the
review workflow (merchants.workflow), and a station's merchants.

Each function is one transaction; the offer row is taken with `select_for_update` before
any check, so that two reviewers (or a reviewer and the merchant) cannot interleave. Every
status change writes an `OfferTransition` row. Admin, API and shell all come through
here, so every rule holds whoever asks.
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import City, User
from core.errors import INVALID_REQUEST, PERMISSION_DENIED, DomainError

from . import workflow
from .errors import (
    INVALID_TRANSITION,
    MERCHANT_NOT_IN_GOOD_STANDING,
    MERCHANT_SUSPENDED,
    NOT_DELETABLE,
    NOT_EDITABLE,
    OFFER_WINDOW_OVER,
    PAUSED_BY_CITY,
    REASON_REQUIRED,
)
from .models import Merchant, Offer, OfferTransition, Station
from .scopes import is_city_staff, is_superuser, may, roles_on_offer, staff_merchant_id

_M2M = "eligible_home_cities"
_ALLIANCE = "eligible_alliance"  # a foreign key: kept by its key in pending_terms


def _invalid(exc: ValidationError) -> DomainError:
    detail: dict[str, Any] = {
        ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
        for field, messages in exc.message_dict.items()
    }
    return INVALID_REQUEST(**detail)


def _set_home_cities(offer: Offer, codes: Iterable[str]) -> None:
    # City's primary key is its code; the stubs take every primary key for an int.
    offer.eligible_home_cities.set(sorted(codes))  # type: ignore[arg-type]


def offer_field(name: str) -> Field:
    """An offer's own field by name (editable and terms fields are never reverse relations)."""
    field = Offer._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _city_codes(cities: Iterable[City | str]) -> set[str]:
    return {c.code if isinstance(c, City) else str(c) for c in cities}


def _validate(offer: Offer, home_cities: set[str]) -> None:
    """Model rules plus the one that needs the M2M: a listed rule names at least one city."""
    try:
        offer.full_clean()
    except ValidationError as exc:
        raise _invalid(exc) from None
    listed = offer.home_city_rule == Offer.HomeCityRule.LISTED
    if listed and not home_cities and offer.eligible_alliance_id is None:
        raise _invalid(ValidationError({_M2M: _("“适用居民”为“指定城市”时，请至少选择一个城市。")}))
    unknown = home_cities - set(
        City.objects.filter(code__in=home_cities).values_list("code", flat=True)
    )
    if unknown:
        raise _invalid(ValidationError({_M2M: _("不是合作城市：%s") % ", ".join(sorted(unknown))}))


def _record(
    *, offer: Offer, actor: User | None, action: str, from_status: str, reason: str = ""
) -> None:
    OfferTransition.objects.create(
        offer=offer,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=offer.status,
        reason=reason,
        terms_version=offer.terms_version,
    )


def create_offer(*, actor: User, merchant: Merchant, fields: Mapping[str, Any]) -> Offer:
    """Create a draft offer of `merchant`; only its own staff or a superuser may."""
    if not (is_superuser(actor) or staff_merchant_id(actor) == merchant.pk):
        raise PERMISSION_DENIED()
    unknown = set(fields) - set(Offer.EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable offer fields: {sorted(unknown)}")
    scalars = {k: v for k, v in fields.items() if k != _M2M}
    home_cities = _city_codes(fields.get(_M2M, ()))
    with transaction.atomic():
        offer = Offer(merchant=merchant, created_by=actor, status=Offer.Status.DRAFT, **scalars)
        if offer.home_city_rule != Offer.HomeCityRule.LISTED:
            home_cities = set()
            offer.eligible_alliance = None
        _validate(offer, home_cities)
        offer.save()
        _set_home_cities(offer, home_cities)
        _record(offer=offer, actor=actor, action="create", from_status="")
    return offer


def revise_offer(*, actor: User, offer: Offer, changes: Mapping[str, Any]) -> Offer:
    """Change an offer's fields. A change of terms of a published or paused offer does not
    touch the offer: it waits in `pending_terms` for the city's review, and residents,
    claims and exports keep the approved terms until the city approves it (the terms
    version goes up then) or rejects it. Vouchers keep the terms they were issued under.
    The quota may change without review."""
    unknown = set(changes) - set(Offer.EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable offer fields: {sorted(unknown)}")
    with transaction.atomic():
        locked = Offer.objects.select_for_update().get(pk=offer.pk)
        if not may(actor, "revise", locked):
            raise PERMISSION_DENIED()
        if locked.status not in workflow.EDITABLE_STATUSES:
            raise NOT_EDITABLE(status=locked.status)

        current_cities = set(locked.eligible_home_cities.values_list("code", flat=True))
        new_cities = _city_codes(changes[_M2M]) if _M2M in changes else current_cities
        approved = {f: getattr(locked, f) for f in changes if f not in (_M2M, _ALLIANCE)}
        approved_alliance = locked.eligible_alliance_id
        changed: list[str] = []
        for field, value in changes.items():
            if field == _M2M:
                if new_cities != current_cities:
                    changed.append(field)
            elif getattr(locked, field) != value:
                setattr(locked, field, value)
                changed.append(field)
        if locked.home_city_rule != Offer.HomeCityRule.LISTED:
            if current_cities and _M2M not in changed:
                changed.append(_M2M)
            new_cities = set()
            if locked.eligible_alliance_id is not None:
                locked.eligible_alliance = None
                if _ALLIANCE not in changed:
                    changed.append(_ALLIANCE)
        if not changed:
            return locked
        _validate(locked, new_cities)

        terms_changed = [f for f in changed if f in Offer.TERMS_FIELDS]
        if terms_changed and locked.status in REVIEWED_STATUSES:
            proposal = dict(locked.pending_terms)
            for field in terms_changed:
                proposal[field] = sorted(new_cities) if field == _M2M else _encode(locked, field)
                if field == _ALLIANCE:
                    locked.eligible_alliance_id = approved_alliance  # the approved term
                elif field != _M2M:
                    setattr(locked, field, approved[field])  # the row keeps the approved term
            locked.pending_terms = proposal
            others = [f for f in changed if f not in terms_changed]
            locked.save(update_fields=[*others, "pending_terms", "updated_at"])
            labels = "、".join(str(offer_field(f).verbose_name) for f in terms_changed)
            _record(
                offer=locked,
                actor=actor,
                action="revise",
                from_status=locked.status,
                reason=str(
                    _("条款修改（%(fields)s）已提交审核；审核通过前居民仍看到原条款。")
                    % {"fields": labels}
                ),
            )
            return locked
        locked.save(update_fields=[*[f for f in changed if f != _M2M], "updated_at"])
        if _M2M in changed:
            _set_home_cities(locked, new_cities)
    return locked


REVIEWED_STATUSES = workflow.REVIEWED_STATUSES


def _encode(offer: Offer, field: str) -> Any:
    """A field's value as JSON (decimals and times as strings, a foreign key as its key;
    `to_python` reads it back)."""
    value = offer_field(field).value_from_object(offer)
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def pending_changes(offer: Offer) -> list[tuple[str, Any, Any]]:
    """`(field, approved value, proposed value)` of the revision waiting for review."""
    rows = []
    for field, proposed in offer.pending_terms.items():
        if field == _M2M:
            current = sorted(offer.eligible_home_cities.values_list("code", flat=True))
            rows.append((field, current, proposed))
        else:
            value = offer_field(field).to_python(proposed)
            rows.append((field, getattr(offer, field), value))
    return rows


def _has_revision(offer: Offer) -> bool:
    row = Offer.objects.filter(pk=offer.pk).values_list("status", "pending_terms").first()
    return bool(row and row[0] in REVIEWED_STATUSES and row[1])


def _review_revision(actor: User, offer: Offer, *, approve: bool, reason: str = "") -> Offer:
    """Approve (apply, next terms version) or reject the revision of a published or
    paused offer; the offer stays as it is for residents either way."""
    with transaction.atomic():
        locked = Offer.objects.select_for_update().get(pk=offer.pk)
        if not may(actor, "publish", locked):
            raise PERMISSION_DENIED()
        if not locked.pending_terms or locked.status not in REVIEWED_STATUSES:
            action = "publish" if approve else "reject"
            raise INVALID_TRANSITION(status=locked.status, action=action)
        if approve:
            cities = set(locked.eligible_home_cities.values_list("code", flat=True))
            for field, proposed in locked.pending_terms.items():
                if field == _M2M:
                    cities = set(proposed)
                else:
                    model_field = offer_field(field)
                    setattr(locked, model_field.attname, model_field.to_python(proposed))
            if locked.home_city_rule != Offer.HomeCityRule.LISTED:
                cities = set()
                locked.eligible_alliance_id = None
            _validate(locked, cities)
            locked.terms_version += 1
            _set_home_cities(locked, cities)
            locked.rejection_reason = ""
        else:
            locked.rejection_reason = reason
        locked.pending_terms = {}
        locked.save()
        _record(
            offer=locked,
            actor=actor,
            action="publish" if approve else "reject",
            from_status=locked.status,
            reason=reason or str(_("条款修改审核通过。")),
        )
    return locked


# What residents and exports show of a merchant is the city's word: merchant staff keep
# their contact details and address current, city staff (of the merchant's city) and
# superusers alone change these.
CITY_FIELDS = frozenset({"name", "credit_code", "city", "city_id", "status"})


def update_merchant(*, actor: User, merchant: Merchant, changes: Mapping[str, Any]) -> Merchant:
    """Change a merchant's fields: name, credit code, city and status only by city staff
    of its city or a superuser; the rest also by the merchant's own staff."""
    if is_superuser(actor):
        allowed = True
    elif is_city_staff(actor):
        moved_to = changes.get("city_id", getattr(changes.get("city"), "pk", merchant.city_id))
        allowed = merchant.city_id == actor.staff_city_id == moved_to  # never out of their city
    else:
        allowed = staff_merchant_id(actor) == merchant.pk and not CITY_FIELDS & set(changes)
    if not allowed:
        raise PERMISSION_DENIED()
    with transaction.atomic():
        locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
        for field, value in changes.items():
            setattr(locked, field, value)
        try:
            locked.full_clean()
        except ValidationError as exc:
            raise _invalid(exc) from None
        locked.save()
    return locked


def _transition(*, actor: User, offer: Offer, action: str, reason: str = "") -> Offer:
    """Take the offer row, check role and current status, move it, record the move."""
    sources, target = workflow.TRANSITIONS[action]
    gated = action in workflow.NEEDS_LIVE_WINDOW  # submit, publish, resume
    with transaction.atomic():
        if gated:
            # The merchant row first (the credit sync takes merchants, then offers): a
            # sync that downgrades the merchant and this step are decided one after the
            # other, so no offer of a downgraded merchant is published behind its back.
            merchant_id = Offer.objects.filter(pk=offer.pk).values_list("merchant_id", flat=True)
            Merchant.objects.select_for_update(no_key=True).filter(pk__in=merchant_id).first()
        locked = Offer.objects.select_for_update().get(pk=offer.pk)
        if not may(actor, action, locked):
            raise PERMISSION_DENIED()
        if locked.status not in sources:
            raise INVALID_TRANSITION(status=locked.status, action=action)
        now = timezone.now()
        if gated:
            if locked.merchant.status != Merchant.Status.ACTIVE:
                raise MERCHANT_SUSPENDED()
            if not locked.merchant.in_good_standing:
                raise MERCHANT_NOT_IN_GOOD_STANDING(
                    credit_grade=locked.merchant.credit_grade or None,
                    seriously_dishonest=locked.merchant.seriously_dishonest,
                )
            if locked.valid_until <= now:
                raise OFFER_WINDOW_OVER()
        if action == "resume" and roles_on_offer(actor, locked) == {workflow.MERCHANT}:
            last_pause = locked.transitions.filter(to_status=Offer.Status.PAUSED).last()
            if last_pause is not None and not _is_merchant_side(last_pause.actor, locked):
                raise PAUSED_BY_CITY()
        update = ["status", "updated_at"]
        if action == "reject":
            locked.rejection_reason = reason
            update.append("rejection_reason")
        if action == "publish":
            locked.published_at = now
            locked.rejection_reason = ""
            update += ["published_at", "rejection_reason"]
        if action in ("resume", "end") and locked.credit_paused_at is not None:
            locked.credit_paused_at = None
            update.append("credit_paused_at")
        from_status = locked.status
        locked.status = target
        locked.save(update_fields=update)
        _record(offer=locked, actor=actor, action=action, from_status=from_status, reason=reason)
    return locked


def _is_merchant_side(user: User | None, offer: Offer) -> bool:
    return user is not None and staff_merchant_id(user) == offer.merchant_id


def submit_offer(*, actor: User, offer: Offer) -> Offer:
    """Send a draft or rejected offer to its city for review (merchant staff)."""
    return _transition(actor=actor, offer=offer, action="submit")


def withdraw_offer(*, actor: User, offer: Offer) -> Offer:
    """Take a submitted offer back to draft before the city has decided (merchant staff)."""
    return _transition(actor=actor, offer=offer, action="withdraw")


def publish_offer(*, actor: User, offer: Offer) -> Offer:
    """Approve a submitted offer (city staff of the merchant's city); residents see it. For
    a published or paused offer with a revision waiting, approve the revision."""
    if _has_revision(offer):
        return _review_revision(actor, offer, approve=True)
    return _transition(actor=actor, offer=offer, action="publish")


def reject_offer(*, actor: User, offer: Offer, reason: str) -> Offer:
    """Send a submitted offer back to the merchant with a reason they will see."""
    reason = (reason or "").strip()
    if not reason:
        raise REASON_REQUIRED()
    if _has_revision(offer):
        return _review_revision(actor, offer, approve=False, reason=reason)
    return _transition(actor=actor, offer=offer, action="reject", reason=reason)


def pause_offer(*, actor: User, offer: Offer, reason: str = "") -> Offer:
    """Hide a published offer from residents for now (merchant or city staff)."""
    return _transition(actor=actor, offer=offer, action="pause", reason=(reason or "").strip())


def resume_offer(*, actor: User, offer: Offer) -> Offer:
    """Publish a paused offer again; an offer the city (or the credit sync) paused only
    the city may resume, and only while its merchant is in good standing."""
    return _transition(actor=actor, offer=offer, action="resume")


def resume_credit_paused_offers(*, actor: User, merchant: Merchant) -> list[Offer]:
    """Resume every offer the credit sync paused for `merchant` (city staff, one action),
    once the merchant is back in good standing. Offers whose window is over stay paused."""
    merchant.refresh_from_db(fields=["credit_grade", "seriously_dishonest", "status"])
    if not merchant.in_good_standing:
        raise MERCHANT_NOT_IN_GOOD_STANDING(
            credit_grade=merchant.credit_grade or None,
            seriously_dishonest=merchant.seriously_dishonest,
        )
    resumed = []
    paused = Offer.objects.filter(
        merchant=merchant,
        status=Offer.Status.PAUSED,
        credit_paused_at__isnull=False,
        valid_until__gt=timezone.now(),
    ).order_by("pk")
    for offer in paused:
        resumed.append(_transition(actor=actor, offer=offer, action="resume"))
    return resumed


def end_offer(*, actor: User, offer: Offer, reason: str = "") -> Offer:
    """Close an offer for good (city staff); issued vouchers are not touched here."""
    return _transition(actor=actor, offer=offer, action="end", reason=(reason or "").strip())


def delete_offer(*, actor: User, offer: Offer) -> None:
    """Delete an offer that never went out (a draft, by its merchant's side); anything
    else is ended instead, so that its history and vouchers stay."""
    with transaction.atomic():
        locked = Offer.objects.select_for_update().filter(pk=offer.pk).first()
        if locked is None:
            return
        if not may(actor, "revise", locked):
            raise PERMISSION_DENIED()
        if locked.status not in workflow.DELETABLE_STATUSES:
            raise NOT_DELETABLE(status=locked.status)
        locked.delete()


# --- stations ----------------------------------------------------------------------------


def merchants_outside(city: City | str, merchants: Iterable[Merchant]) -> list[Merchant]:
    """The merchants that are not in `city` (a station groups merchants of its city)."""
    code = city.code if isinstance(city, City) else city
    return [m for m in merchants if m.city_id != code]


def set_station_merchants(
    *, actor: User, station: Station, merchants: Iterable[Merchant]
) -> Station:
    """Make `merchants` the station's members: all must be in the station's city; only a
    superuser or city staff of that city may."""
    merchants = list(merchants)
    if not (
        is_superuser(actor) or (is_city_staff(actor) and actor.staff_city_id == station.city_id)
    ):
        raise PERMISSION_DENIED()
    outside = merchants_outside(station.city_id, merchants)
    if outside:
        names = "、".join(m.name for m in outside)
        raise INVALID_REQUEST(
            merchants=[str(_("以下商户不在该站点所在城市：%(names)s") % {"names": names})]
        )
    with transaction.atomic():
        Station.objects.select_for_update().filter(pk=station.pk).first()
        station.merchants.set(merchants)
    return station
