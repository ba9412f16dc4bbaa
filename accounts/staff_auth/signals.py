"""Receivers: a staff login starts a tracked session; a password or role change ends the
person's other sessions and revokes their refresh tokens.

Where roles are stored: `User.role`, `is_staff`, `is_superuser`, `is_active`,
`staff_city` (the city of city staff), the user's groups and permissions, and the
merchant membership (`merchants.MerchantStaff`, named here by its label only: accounts
imports nothing from merchants).
"""

from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save, pre_save

from accounts import tokens
from accounts.models import User
from core import roles

from . import services

# Fields whose change is a change of the person's role or credentials.
# (A password change is told by `_password`, set only by set_password: the hash rewritten
# on a login to a newer algorithm is not a change.)
WATCHED = ("role", "is_staff", "is_superuser", "is_active", "staff_city_id")
_SNAPSHOT = "_staff_auth_snapshot"
_PASSWORD_SET = "_staff_auth_password_set"

# The session key of the request being served (set by StaffSessionMiddleware): a person
# who changes their own password keeps the session they did it from.
current_session_key: ContextVar[str | None] = ContextVar("staff_current_session", default=None)


def _snapshot(instance: User) -> tuple:
    # __dict__, never getattr: a deferred field must not cost a query here
    return tuple(instance.__dict__.get(name) for name in WATCHED)


def _remember(sender: Any, instance: User, **kwargs: Any) -> None:
    setattr(instance, _SNAPSHOT, _snapshot(instance))


def _before_save(sender: Any, instance: User, **kwargs: Any) -> None:
    setattr(instance, _PASSWORD_SET, getattr(instance, "_password", None) is not None)


def _after_save(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    password_set = getattr(instance, _PASSWORD_SET, False)
    setattr(instance, _PASSWORD_SET, False)
    before = getattr(instance, _SNAPSHOT, None)
    after = _snapshot(instance)
    setattr(instance, _SNAPSHOT, after)
    if created or before is None:
        return
    changed = [
        name
        for name, old, new in zip(WATCHED, before, after, strict=True)
        # a field not loaded before (deferred) and not set now did not change
        if old != new and not (old is None and name not in instance.__dict__)
    ]
    if password_set:
        changed.append("password")
    if changed:
        credentials_changed(instance, reason=",".join(changed))


def credentials_changed(user: User, *, reason: str) -> None:
    """A password or role change: end the person's other sessions, revoke their refresh
    tokens (access tokens lapse within JWT_ACCESS_MINUTES; the redemption statement
    re-checks membership at once)."""
    if not settings.XINYOU_STAFF_SESSION_POLICY:
        return
    services.end_sessions(user=user, keep=current_session_key.get())
    tokens.revoke_all(user)
    services.log.info(
        "staff sessions ended on a change", extra={"user_id": user.pk, "changed": reason}
    )


def _groups_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set, **kw) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        credentials_changed(instance, reason="groups_or_permissions")
    else:  # a group's members or permissions changed from the other side
        users = User.objects.filter(pk__in=pk_set) if pk_set else instance.user_set.all()
        for user in users:
            credentials_changed(user, reason="groups_or_permissions")


def _membership_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("created") is False and not _membership_moved(instance):
        return
    user = User.objects.filter(pk=instance.user_id).first()
    if user is not None:
        credentials_changed(user, reason="merchant_membership")


def _membership_moved(instance: Any) -> bool:
    before = getattr(instance, "_staff_auth_merchant", None)
    return before is not None and before != instance.merchant_id


def _remember_membership(sender: Any, instance: Any, **kwargs: Any) -> None:
    instance._staff_auth_merchant = instance.__dict__.get("merchant_id")


def _logged_in(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    tracked = settings.XINYOU_STAFF_SESSION_POLICY or services.enforced()
    if tracked and roles.is_staff_account(user):
        services.start_session(request, user)


def connect() -> None:
    post_init.connect(_remember, sender=User, dispatch_uid="staff-auth-remember")
    pre_save.connect(_before_save, sender=User, dispatch_uid="staff-auth-user-saving")
    post_save.connect(_after_save, sender=User, dispatch_uid="staff-auth-user-saved")
    m2m_changed.connect(
        _groups_changed, sender=User.groups.through, dispatch_uid="staff-auth-groups"
    )
    m2m_changed.connect(
        _groups_changed, sender=User.user_permissions.through, dispatch_uid="staff-auth-perms"
    )
    membership = "merchants.MerchantStaff"
    post_init.connect(_remember_membership, sender=membership, dispatch_uid="staff-auth-m0")
    post_save.connect(_membership_changed, sender=membership, dispatch_uid="staff-auth-m1")
    post_delete.connect(_membership_changed, sender=membership, dispatch_uid="staff-auth-m2")
    user_logged_in.connect(_logged_in, dispatch_uid="staff-auth-logged-in")
