"""The audit trail and the personal-data access log.

Audit trail (django-pghistory): every insert, update and delete of the tracked tables is
copied by a PostgreSQL trigger into an event table of this app (`audit_<name>event`):
the row as it was written, the operation (`insert`, `update`, `delete`, and for staff
accounts `password.change`, which copies no hash), the time, and the context the web
request gave it (`pgh_context`: user id, client address, path; audit.middleware). Because
the database writes the trail, no code path (admin, API, shell, a task, raw SQL) can
change a tracked row without leaving it.

The tracked models are reached through proxy models declared here, so the triggers and
the event tables live in this app's migrations and the tracked apps' model files stay as
they are. What is not tracked on purpose: the hot tables (vouchers, redemptions, pass
checks, claims, tallies), the counter `Offer.claimed_count` and the bookkeeping
timestamps (`updated_at`, `credit_checked_at`, `synced_at`, `last_login`): a claim or a
sync writes no trail row. Resident accounts are not copied (personal data): only
accounts that are or become staff (any role but resident, `is_staff`, `is_superuser`).

Append-only: every event table has a pgtrigger `Protect` trigger (`append_only`) that
refuses UPDATE and DELETE; the retention purge alone passes it, through
`pgtrigger.ignore` (audit.retention.purge_trail).
"""

from functools import reduce
from operator import or_

import pghistory
import pghistory.models
import pgtrigger
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.credit.models import Honour, RuleVersion, Scheme
from accounts.models import User
from incentives.incidents.models import Incident
from merchants.models import Merchant, MerchantStaff, Offer, Station


# --- the tracked tables (proxies: the triggers' migrations stay in this app) -------------
class AuditedOffer(Offer):
    class Meta:
        proxy = True


class AuditedOfferHomeCity(Offer.eligible_home_cities.through):  # type: ignore[name-defined]
    class Meta:
        proxy = True


class AuditedMerchant(Merchant):
    class Meta:
        proxy = True


class AuditedMerchantStaff(MerchantStaff):
    class Meta:
        proxy = True


class AuditedStation(Station):
    class Meta:
        proxy = True


class AuditedStationMerchant(Station.merchants.through):  # type: ignore[name-defined]
    class Meta:
        proxy = True


class AuditedScheme(Scheme):
    class Meta:
        proxy = True


class AuditedRuleVersion(RuleVersion):
    class Meta:
        proxy = True


class AuditedHonour(Honour):
    class Meta:
        proxy = True


class AuditedIncident(Incident):
    class Meta:
        proxy = True


class AuditedUser(User):
    class Meta:
        proxy = True


class AuditedUserGroup(User.groups.through):  # type: ignore[name-defined]
    class Meta:
        proxy = True


class AuditedUserPermission(User.user_permissions.through):  # type: ignore[name-defined]
    class Meta:
        proxy = True


class AuditedGroup(Group):
    class Meta:
        proxy = True


class AuditedGroupPermission(Group.permissions.through):  # type: ignore[name-defined]
    class Meta:
        proxy = True


def _changed(model: type[models.Model], *, ignore: tuple[str, ...] = ()) -> pgtrigger.Q:
    """An UPDATE that changes any column but those in `ignore`."""
    names = [f.name for f in model._meta.concrete_fields if f.name not in ignore]
    return reduce(or_, [pgtrigger.Q(**{f"old__{n}__df": pgtrigger.F(f"new__{n}")}) for n in names])


def _track(
    model: type[models.Model],
    name: str,
    *,
    ignore_changes: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    update: bool = True,
) -> type[models.Model]:
    """Copy every insert, update (unless only `ignore_changes` columns moved) and delete
    of `model` into the append-only event table `audit.<name>`; returns that model."""
    trackers: list[pghistory.RowEvent] = [pghistory.InsertEvent("insert")]
    if update:
        trackers.append(
            pghistory.UpdateEvent("update", condition=_changed(model, ignore=ignore_changes))
        )
    trackers.append(pghistory.DeleteEvent("delete"))
    pghistory.track(
        *trackers,
        exclude=list(exclude),
        context_field=pghistory.ContextJSONField(),
        append_only=True,
        model_name=name,
        app_label="audit",
        obj_field=pghistory.ObjForeignKey(related_name="+", related_query_name="+"),
    )(model)
    # pghistory puts the generated model in this module under `name`
    return globals()[name]


OfferEvent = _track(AuditedOffer, "OfferEvent", ignore_changes=("claimed_count", "updated_at"))
OfferHomeCityEvent = _track(AuditedOfferHomeCity, "OfferHomeCityEvent", update=False)
MerchantEvent = _track(
    AuditedMerchant, "MerchantEvent", ignore_changes=("updated_at", "credit_checked_at")
)
MerchantStaffEvent = _track(AuditedMerchantStaff, "MerchantStaffEvent")
StationEvent = _track(AuditedStation, "StationEvent")
StationMerchantEvent = _track(AuditedStationMerchant, "StationMerchantEvent", update=False)
SchemeEvent = _track(AuditedScheme, "SchemeEvent")
RuleVersionEvent = _track(AuditedRuleVersion, "RuleVersionEvent")
HonourEvent = _track(AuditedHonour, "HonourEvent", ignore_changes=("synced_at",))
IncidentChangeEvent = _track(AuditedIncident, "IncidentChangeEvent")
UserGroupEvent = _track(AuditedUserGroup, "UserGroupEvent", update=False)
UserPermissionEvent = _track(AuditedUserPermission, "UserPermissionEvent", update=False)
GroupEvent = _track(AuditedGroup, "GroupEvent")
GroupPermissionEvent = _track(AuditedGroupPermission, "GroupPermissionEvent", update=False)


# Accounts: staff only (a resident's account row is personal data, not an audit matter),
# and never the password hash: a password change is an event of its own with no hash.
def _staffish(row: str) -> pgtrigger.Q:
    return (
        ~pgtrigger.Q(**{f"{row}__role": "resident"})
        | pgtrigger.Q(**{f"{row}__is_staff": True})
        | pgtrigger.Q(**{f"{row}__is_superuser": True})
    )


pghistory.track(
    pghistory.InsertEvent("insert", condition=_staffish("new")),
    pghistory.UpdateEvent(
        "update",
        condition=_changed(AuditedUser, ignore=("password", "last_login"))
        & (_staffish("old") | _staffish("new")),
    ),
    pghistory.UpdateEvent(
        "password.change",
        condition=pgtrigger.Q(old__password__df=pgtrigger.F("new__password"))
        & (_staffish("old") | _staffish("new")),
    ),
    pghistory.DeleteEvent("delete", condition=_staffish("old")),
    exclude=["password", "last_login"],
    context_field=pghistory.ContextJSONField(),
    append_only=True,
    model_name="UserEvent",
    app_label="audit",
    obj_field=pghistory.ObjForeignKey(related_name="+", related_query_name="+"),
)(AuditedUser)
UserEvent: type[models.Model] = globals()["UserEvent"]

# Every event table of the trail.
EVENT_MODELS: tuple[type[models.Model], ...] = (
    OfferEvent,
    OfferHomeCityEvent,
    MerchantEvent,
    MerchantStaffEvent,
    StationEvent,
    StationMerchantEvent,
    SchemeEvent,
    RuleVersionEvent,
    HonourEvent,
    IncidentChangeEvent,
    UserEvent,
    UserGroupEvent,
    UserPermissionEvent,
    GroupEvent,
    GroupPermissionEvent,
)

# Tables of memberships (many-to-many rows): listed on the page of either side.
MEMBERSHIP_EVENT_MODELS: tuple[type[models.Model], ...] = (
    OfferHomeCityEvent,
    StationMerchantEvent,
    MerchantStaffEvent,
    UserGroupEvent,
    UserPermissionEvent,
    GroupPermissionEvent,
)


class TrailEntry(pghistory.models.Events):
    """One row of the trail, whatever table it is in (pghistory's union of the event
    tables, with the diff against the object's previous row), with the request context
    as columns. Read-only: a view, not a table."""

    user = pghistory.ProxyField(
        "pgh_context__user",
        models.ForeignKey(
            settings.AUTH_USER_MODEL,
            on_delete=models.DO_NOTHING,
            null=True,
            db_constraint=False,
            related_name="+",
            verbose_name=_("操作人"),
        ),
    )
    ip = pghistory.ProxyField("pgh_context__ip", models.TextField(_("来源地址"), null=True))
    url = pghistory.ProxyField("pgh_context__url", models.TextField(_("路径"), null=True))

    class Meta:
        proxy = True
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")


class AccessLog(models.Model):
    """A member of staff opened something that shows a resident's data. Append-only
    (a pgtrigger `Protect` trigger; the retention purge passes it)."""

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("查看人"),
    )
    # who the staff member is in the programme, as at the time: the resident is told
    # this (role, city, merchant), never the staff member's phone or name
    staff_role = models.CharField(_("查看人角色"), max_length=20)
    staff_city = models.CharField(_("查看人所属城市"), max_length=6, blank=True)
    staff_merchant = models.CharField(_("查看人所属商户"), max_length=100, blank=True)
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("居民"),
    )
    what = models.CharField(_("查看内容"), max_length=40)
    object_ref = models.CharField(_("对象"), max_length=80, blank=True)
    ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    path = models.CharField(_("路径"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = _("个人信息查看记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["resident", "-at"], name="access_log_resident")]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.staff_role} → #{self.resident_id} {self.what} {self.at:%Y-%m-%d %H:%M}"
