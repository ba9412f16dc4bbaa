"""Admin for the accounts' security and identity records: read-only audits, the sandbox
SMS outbox (demo codes), the user agreement versions."""

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .legal.models import Agreement, AgreementAcceptance
from .realname.models import IdentityCheck
from .security.models import LoginLock
from .security.services import account_key, lift_lock
from .sms.models import SmsOutboxMessage


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        # a new current version replaces the old one: everybody is asked again at login
        with transaction.atomic():
            if obj.is_current:
                Agreement.objects.filter(is_current=True).update(is_current=False)
            super().save_model(request, obj, form, change)

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(SmsOutboxMessage)
class SmsOutboxAdmin(_ReadOnly):
    list_display = ["sent_at", "phone", "text"]
    search_fields = ["phone"]


@admin.register(IdentityCheck)
class IdentityCheckAdmin(_ReadOnly):
    list_display = ["created_at", "provider", "purpose", "outcome", "known", "latency_ms"]
    list_filter = ["outcome", "provider"]


@admin.register(LoginLock)
class LoginLockAdmin(_ReadOnly):
    list_display = ["locked_at", "until"]
    search_fields = ["account_key"]
    search_help_text = _("输入手机号查找其锁定")

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser  # an operator may lift a lock

    def get_search_results(self, request, queryset, search_term):
        # locks are kept under a keyed hash of the phone: search by the phone itself
        term = search_term.strip()
        if term:
            return queryset.filter(account_key=account_key(term)), False
        return queryset, False

    def delete_model(self, request, obj) -> None:
        lift_lock(obj.account_key, by=f"superuser:{request.user.pk}")

    def delete_queryset(self, request, queryset) -> None:
        for key in list(queryset.values_list("account_key", flat=True)):
            lift_lock(key, by=f"superuser:{request.user.pk}")


@admin.register(AgreementAcceptance)
class AgreementAcceptanceAdmin(_ReadOnly):
    list_display = ["accepted_at", "user", "agreement"]


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ["version", "title_zh", "published_at", "is_current"]

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        # a published version is never edited: publish a new version instead
        return request.user.is_superuser and obj is None

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        # a new current version replaces the old one: everybody is asked again at login
        with transaction.atomic():
            if obj.is_current:
                Agreement.objects.filter(is_current=True).update(is_current=False)
            super().save_model(request, obj, form, change)
