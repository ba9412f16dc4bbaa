"""Write use cases of credit: consent, provider queries (audited), verification, the
seriously-dishonest list, refreshes.

A provider query is only ever made under an active consent, and every one is written to
the audit (CreditQuery), whatever its outcome.
"""

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import City, User
from accounts.signals import resident_listed
from core import roles
from core.errors import INVALID_REQUEST, PERMISSION_DENIED
from core.resilience import enqueue, is_queue_error, queue_of_tasks
from core.staged_sync import staging_table

from . import errors
from .conversion import tier_of
from .models import (
    Consent,
    ConsentText,
    CreditQuery,
    Honour,
    ListedPerson,
    RuleVersion,
    Scheme,
    Standing,
)
from .providers import BreakerOpen, PersonNotFound, ProviderAnswer, ProviderUnavailable
from .registry import breaker_for, provider_for

logger = logging.getLogger(__name__)

PURPOSE_ELIGIBILITY = "incentive_eligibility"
PURPOSE_REFRESH = "standing_refresh"
LOCK_SECONDS = 60


# --------------------------------------------------------------------------- consent


def active_consent(resident: User) -> Consent | None:
    return (
        Consent.objects.select_related("text")
        .filter(resident=resident, withdrawn_at__isnull=True)
        .first()
    )


def give_consent(*, resident: User, version: str) -> Consent:
    """Record the resident's consent to the current consent text `version`.

    Consenting again to the same version returns the active consent; consenting to a newer
    version closes the older one. Unknown or outdated versions are refused.
    """
    text = ConsentText.objects.filter(version=version, is_current=True).first()
    if text is None:
        raise INVALID_REQUEST(consent_version=[str(_("未知或已过期的授权书版本。"))])
    try:
        with transaction.atomic():
            current = (
                Consent.objects.select_for_update()
                .filter(resident=resident, withdrawn_at__isnull=True)
                .first()
            )
            if current is not None and current.text_id == text.pk:
                return current
            if current is not None:
                current.withdrawn_at = timezone.now()
                current.save(update_fields=["withdrawn_at"])
            return Consent.objects.create(resident=resident, text=text)
    except IntegrityError:  # a concurrent consent won the race: it is the active one
        winner = active_consent(resident)
        if winner is None:  # ... unless withdrawn in the meantime: nothing to return
            raise
        return winner


def withdraw_consent(*, resident: User) -> int:
    """Withdraw the active consent: no query is made for this resident from now on.
    The consent row is kept (withdrawal does not undo earlier lawful processing)."""
    return Consent.objects.filter(resident=resident, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )


# --------------------------------------------------------------------------- rules


def may_version_scheme(actor: User, scheme: Scheme) -> bool:
    """Who keeps a scheme's rules: a superuser, or staff of the city that owns it. A scheme
    several cities use (金椰分: 海口 and 三亚) changes only by its owner's word."""
    if roles.is_superuser(actor):
        return True
    return (
        roles.is_city_staff(actor)
        and scheme.owner_city_id is not None
        and scheme.owner_city_id == actor.staff_city_id
    )


def check_rule_version(
    *,
    actor: User,
    scheme: Scheme,
    version: int,
    effective_from: datetime | None = None,
    **rules: Any,
) -> RuleVersion:
    """A new rule version of a scheme, checked but not saved: only its keeper may add one
    (above), its number comes after every existing version's (a saved version is never
    rewritten: a change is a new number), and its bands or grades follow the scheme's rules.
    Raises PERMISSION_DENIED or INVALID_REQUEST (field -> messages)."""
    if not may_version_scheme(actor, scheme):
        raise PERMISSION_DENIED(reason="not_the_schemes_city")
    latest = scheme.rule_versions.aggregate(latest=Max("version"))["latest"]
    if latest is not None and version <= latest:
        raise INVALID_REQUEST(
            version=[_("版本号须大于现有的最新版本 %(latest)s。") % {"latest": latest}]
        )
    rule = RuleVersion(
        scheme=scheme,
        version=version,
        effective_from=effective_from or timezone.now(),
        created_by=actor,
        **rules,
    )
    try:
        rule.full_clean()
    except ValidationError as exc:
        detail: dict[str, Any] = exc.message_dict
        raise INVALID_REQUEST(**detail) from None
    return rule


def add_rule_version(
    *,
    actor: User,
    scheme: Scheme,
    version: int,
    effective_from: datetime | None = None,
    **rules: Any,
) -> RuleVersion:
    """Add a new rule version (its bands, or a grade scheme's grade_tiers) to a scheme, once
    check_rule_version has passed it; the admin adds versions through here too."""
    rule = check_rule_version(
        actor=actor, scheme=scheme, version=version, effective_from=effective_from, **rules
    )
    rule.save()
    return rule


# --------------------------------------------------------------------------- queries


def query_provider(*, resident_id: int, purpose: str, requested_by: str) -> str:
    """Ask the resident's home city for their standing, audit it, store the result.

    Returns the outcome: `ok`, `not_found`, `unavailable`, `breaker_open`, or, when no
    query may or can be made, `no_consent` / `no_scheme` (nothing is sent then).
    """
    resident = User.objects.select_related("home_city__scheme").get(pk=resident_id)
    consent = active_consent(resident)
    if consent is None:
        return "no_consent"
    city = resident.home_city
    scheme = city.scheme if city else None
    rule = scheme.rule_in_force() if scheme else None
    # A resident always has a home city and an identity (User's resident_has_identity).
    if city is None or scheme is None or rule is None or resident.id_hash is None:
        return "no_scheme"
    if scheme.is_grade:
        provider = provider_for(city.code, None, grades=list(scheme.grades))
    elif scheme.min_score is None or scheme.max_score is None:
        return "no_scheme"  # a numeric scheme without its range (Scheme.clean refuses one)
    else:
        provider = provider_for(city.code, (scheme.min_score, scheme.max_score))
    started = time.monotonic()
    answer, error = None, ""
    try:
        answer = provider.query(
            person_hash=resident.id_hash, purpose=purpose, consent_ref=str(consent.pk)
        )
        outcome = CreditQuery.Outcome.OK
    except PersonNotFound:
        outcome = CreditQuery.Outcome.NOT_FOUND
    except BreakerOpen as exc:
        outcome, error = CreditQuery.Outcome.BREAKER_OPEN, str(exc)
    except ProviderUnavailable as exc:
        outcome, error = CreditQuery.Outcome.UNAVAILABLE, str(exc)
    latency_ms = int((time.monotonic() - started) * 1000)
    now = timezone.now()
    with transaction.atomic():
        CreditQuery.objects.create(
            resident=resident,
            id_masked=resident.id_masked,
            requested_by=requested_by,
            city=city,
            purpose=purpose,
            consent=consent,
            outcome=outcome,
            error=error[:200],
            latency_ms=latency_ms,
            rule_version=rule if answer else None,
        )
        if answer is not None:
            _store_standing(resident, city, rule, answer, now)
        elif outcome in (CreditQuery.Outcome.UNAVAILABLE, CreditQuery.Outcome.BREAKER_OPEN):
            Standing.objects.filter(resident=resident).update(last_failed_at=now)
    logger.info(
        "credit query resident=%s city=%s purpose=%s outcome=%s latency_ms=%s",
        resident.pk,
        city.code,
        purpose,
        outcome,
        latency_ms,
    )
    return str(outcome)


def _store_standing(
    resident: User, city: City, rule: RuleVersion, answer: ProviderAnswer, now: datetime
) -> Standing:
    listed = (
        answer.seriously_dishonest
        or ListedPerson.objects.filter(person_hash=resident.id_hash).exists()
    )
    standing = Standing.objects.select_for_update().filter(resident=resident).first()
    was_listed = bool(standing and standing.seriously_dishonest)
    old_tier = standing.tier if standing else ""
    standing = standing or Standing(resident=resident)
    standing.city = city
    standing.rule_version = rule
    if rule.is_grade:
        scale = rule.grade_scale
        # a grade the scheme lists but this version does not is refused too
        if answer.grade is None or answer.grade not in scale:
            raise ProviderUnavailable(f"grade {answer.grade!r} not in {rule}")
        standing.score, standing.grade = None, answer.grade
        standing.tier = scale.tier(answer.grade)
    else:
        if answer.score is None:  # providers of a numeric scheme answer a score
            raise ProviderUnavailable(f"no score for {rule}")
        standing.score, standing.grade = answer.score, ""
        standing.tier = tier_of(answer.score, rule.bands)
    standing.seriously_dishonest = listed
    standing.verified_at = now
    standing.valid_until = now + timedelta(days=rule.scheme.validity_days)
    standing.provider_reference = answer.reference[:64]
    standing.last_failed_at = None
    standing.save()
    if listed and not was_listed:
        _announce_listed([resident.pk])
    if old_tier and old_tier != standing.tier:
        _announce_tier_change(resident.pk, old_tier, standing.tier, now)
    return standing


def _announce_tier_change(resident_id: int, old: str, new: str, at: datetime) -> None:
    """A refresh moved the standing to another tier: a notice (once per refresh), after
    commit. It names the tiers, never the score."""
    from accounts.notices.models import NoticeKind
    from accounts.notices.services import notify

    transaction.on_commit(
        lambda: notify(
            kind=NoticeKind.TIER_CHANGED,
            resident_id=resident_id,
            event=at.isoformat(),
            params={"old": old, "new": new},
            link="#/credit",
        )
    )


def _announce_listed(resident_ids: list[int]) -> None:
    def send() -> None:
        for rid in resident_ids:
            resident_listed.send(sender=Standing, resident_id=rid)

    transaction.on_commit(send)


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class Verification:
    standing: Standing | None
    state: str  # "fresh" | "stale" | "pending"


def _lock_key(resident_id: int) -> str:
    return f"credit:query-lock:{resident_id}"


def query_once(*, resident_id: int, purpose: str, requested_by: str) -> str:
    """`query_provider` unless a query for this resident is already in flight anywhere
    (a Redis lock): concurrent verifications make one provider query."""
    key = _lock_key(resident_id)
    if not cache.add(key, "1", timeout=LOCK_SECONDS):
        return "in_flight"
    try:
        return query_provider(resident_id=resident_id, purpose=purpose, requested_by=requested_by)
    finally:
        cache.delete(key)


def verify_standing(*, resident: User, budget: float | None = None) -> Verification:
    """Verify with the home city's provider within a short budget.

    A standing verified moments ago is served again; a slow provider gives `pending` (the
    query goes on in a worker); a provider that is down gives the last standing as `stale`,
    or `503 provider_unavailable` when there is none. With Redis (the queue) down the query
    is made in this process, synchronously.
    """
    from accounts.tasks import query_standing  # tasks wrap services; import at call time

    if active_consent(resident) is None:
        raise errors.CONSENT_REQUIRED()
    budget = settings.CREDIT_VERIFY_BUDGET_SECONDS if budget is None else budget
    started_wall = timezone.now()
    deadline = time.monotonic() + budget
    current = Standing.objects.filter(resident=resident).first()
    reuse = timedelta(seconds=settings.CREDIT_VERIFY_REUSE_SECONDS)
    if current and current.verified_at >= started_wall - reuse and not current.stale:
        return Verification(current, "fresh")
    args = (resident.pk, PURPOSE_ELIGIBILITY, "resident")
    # For a worker; when the queue (Redis) cannot take it, asked here and now instead.
    result = enqueue(query_standing, *args)
    try:
        outcome = result.get(timeout=budget, disable_sync_subtasks=False)
    except CeleryTimeout:
        return Verification(current, "pending")
    except Exception as exc:
        if not is_queue_error(exc):
            raise
        # queued, but Redis went away before the answer came back: ask here and now
        queue_of_tasks().failed("credit verification result", exc)
        outcome = query_standing.apply(args=args).get()
    if outcome == "in_flight":
        outcome = _wait_for_other_query(resident.pk, deadline)
        if outcome == "pending":
            return Verification(current, "pending")
        standing = Standing.objects.filter(resident=resident).first()
        if standing and standing.verified_at >= started_wall:
            return Verification(standing, "fresh")
        outcome = "unavailable"
    if outcome == "ok":
        return Verification(Standing.objects.get(resident=resident), "fresh")
    if outcome == "no_consent":
        raise errors.CONSENT_REQUIRED()
    if outcome == "not_found":
        raise errors.NO_STANDING(reason="person_not_found")
    if outcome == "no_scheme":
        raise errors.PROVIDER_UNAVAILABLE(city=resident.home_city_id, reason="no_scheme")
    standing = Standing.objects.filter(resident=resident).first()
    if standing is None:
        raise errors.PROVIDER_UNAVAILABLE()
    return Verification(standing, "stale")


def _wait_for_other_query(resident_id: int, deadline: float) -> str:
    while time.monotonic() < deadline:
        if cache.get(_lock_key(resident_id)) is None:
            return "done"
        time.sleep(0.05)
    return "pending"


# --------------------------------------------------------------------------- list sync


@dataclass(frozen=True)
class ListSync:
    city: str
    entries: int
    newly_listed: int
    removed: int
    restored: int = 0  # flags cleared: off every list now (credit repair)


def sync_dishonest_list(*, city_code: str, batch_size: int | None = None) -> ListSync:
    """Replace the city's synced seriously-dishonest list with the provider's current one.

    Staged and applied set-based in one transaction (``core.staged_sync``): memory stays
    bounded, and a list whose end does not authenticate changes nothing. Residents newly
    on the list are marked at once and announced (listeners revoke their open vouchers);
    those taken off the list (credit repair) and on no other city's list are cleared in
    the same sync, so eligibility comes back at once.
    """
    batch_size = batch_size or settings.CREDIT_LIST_BATCH_SIZE
    City.objects.get(code=city_code)
    provider = provider_for(city_code)
    listed = ListedPerson._meta.db_table
    standing = Standing._meta.db_table
    users = User._meta.db_table
    staging = staging_table("credit_list_staging", {"person_hash": "varchar(64)"}, work_mem="128MB")
    with staging as stage:
        entries = stage.load(((h,) for h in provider.iter_dishonest_list()), batch_size=batch_size)
        cur = stage.cursor
        # Table names come from model metadata, never from input: the f-strings are safe.
        # Credit repair first, while this city's old entries still show who was on its
        # list: a flagged resident who is not on the new list, nor on any other city's, and
        # whom this city listed (or whose home city it is) is cleared now.
        cur.execute(
            f"UPDATE {standing} SET seriously_dishonest = %s FROM {users} u "  # noqa: S608
            f"WHERE u.id = {standing}.resident_id AND {standing}.seriously_dishonest "
            "AND NOT EXISTS (SELECT 1 FROM credit_list_staging s WHERE s.person_hash = u.id_hash) "
            f"AND NOT EXISTS (SELECT 1 FROM {listed} o "
            "WHERE o.person_hash = u.id_hash AND o.city_id <> %s) "
            f"AND ({standing}.city_id = %s OR EXISTS (SELECT 1 FROM {listed} l "
            "WHERE l.person_hash = u.id_hash AND l.city_id = %s)) "
            f"RETURNING {standing}.resident_id",
            [False, city_code, city_code, city_code],
        )
        restored = len(cur.fetchall())
        cur.execute(
            f"DELETE FROM {listed} WHERE city_id = %s AND NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM credit_list_staging s WHERE s.person_hash = {listed}.person_hash)",
            [city_code],
        )
        removed = cur.rowcount
        cur.execute(
            f"INSERT INTO {listed} (city_id, person_hash, synced_at) "  # noqa: S608
            "SELECT DISTINCT %s, s.person_hash, %s FROM credit_list_staging s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {listed} l WHERE l.city_id = %s AND l.person_hash = s.person_hash) "
            "ORDER BY s.person_hash",  # sorted: index pages fill in order, not at random
            [city_code, timezone.now(), city_code],
        )
        cur.execute(
            f"UPDATE {standing} SET seriously_dishonest = %s FROM {users} u "  # noqa: S608
            f"WHERE u.id = {standing}.resident_id AND NOT {standing}.seriously_dishonest "
            "AND u.id_hash IN (SELECT person_hash FROM credit_list_staging) "
            f"RETURNING {standing}.resident_id",
            [True],
        )
        newly = [row[0] for row in cur.fetchall()]
        if newly:
            _announce_listed(newly)
    logger.info(
        "dishonest list synced city=%s entries=%s newly_listed=%s removed=%s restored=%s",
        city_code,
        entries,
        len(newly),
        removed,
        restored,
    )
    return ListSync(city_code, entries, len(newly), removed, restored)


# --------------------------------------------------------------------------- honours


@dataclass(frozen=True)
class HonourSync:
    city: str
    entries: int


def sync_honours(*, city_code: str, batch_size: int | None = None) -> HonourSync:
    """Replace the city's synced honour lists with the provider's current ones.

    Like the dishonest list, staged and applied set-based in one transaction
    (``core.staged_sync``), so a list whose end does not authenticate, or holds a
    malformed item, changes nothing.
    """
    batch_size = batch_size or settings.CREDIT_LIST_BATCH_SIZE
    City.objects.get(code=city_code)
    provider = provider_for(city_code)
    table = Honour._meta.db_table
    columns = {"person_hash": "varchar(64)", "kind": "varchar(20)", "valid_until": "date"}
    with staging_table("credit_honour_staging", columns) as stage:
        entries = stage.load(
            ((e.person_hash, e.kind, e.valid_until) for e in provider.iter_honours()),
            batch_size=batch_size,
        )
        cur = stage.cursor
        cur.execute(f"DELETE FROM {table} WHERE city_id = %s", [city_code])  # noqa: S608
        # one row per (person, kind): the latest validity, no end date winning
        cur.execute(
            f"INSERT INTO {table} (city_id, person_hash, kind, valid_until, synced_at) "  # noqa: S608
            "SELECT %s, person_hash, kind, "
            "CASE WHEN COUNT(*) > COUNT(valid_until) THEN NULL ELSE MAX(valid_until) END, %s "
            "FROM credit_honour_staging GROUP BY person_hash, kind ORDER BY person_hash",
            [city_code, timezone.now()],
        )
    logger.info("honour lists synced city=%s entries=%s", city_code, entries)
    return HonourSync(city_code, entries)


# --------------------------------------------------------------------------- refresh


def refresh_lapsing_standings(*, now: datetime | None = None) -> int:
    """Queue a refresh for every standing that lapses within the window and whose
    resident still consents, spread over time, skipping cities whose breaker is open.
    Returns how many were queued; a resident already queued is not queued again."""
    from accounts.tasks import query_standing

    now = now or timezone.now()
    horizon = now + timedelta(seconds=settings.CREDIT_REFRESH_AHEAD_SECONDS)
    spread = settings.CREDIT_REFRESH_SPREAD_SECONDS
    rows = (
        Standing.objects.filter(
            valid_until__lte=horizon, resident__credit_consents__withdrawn_at__isnull=True
        )
        .values_list("resident_id", "city_id")
        .distinct()
    )
    open_cities: dict[str, bool] = {}
    queued = 0
    for resident_id, city_code in rows.iterator(chunk_size=2000):
        if city_code not in open_cities:
            breaker = breaker_for(city_code)
            open_cities[city_code] = breaker is not None and breaker.state() == "open"
        if open_cities[city_code]:
            continue
        if not cache.add(f"credit:refresh-queued:{resident_id}", "1", timeout=spread + 600):
            continue
        query_standing.apply_async(
            args=(resident_id, PURPOSE_REFRESH, "refresh"),
            countdown=random.uniform(0, spread) if spread else 0,
        )
        queued += 1
    return queued
