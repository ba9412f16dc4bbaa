"""Admin: superusers see which staff accounts have a second factor and reset one (the
action asks for a reason; every reset is a SecondFactorReset row, read-only here).

django-otp's own device admins are taken off the site: a device deleted there would be a
reset that nobody recorded, and nobody needs to read a secret back."""

from contextlib import suppress

from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.security.services import client_ip
from core.auth import signed_in_user

from . import services
from .models import SecondFactorReset, StaffAccount

for _model in (TOTPDevice, StaticDevice):
    with suppress(NotRegistered):
        admin.site.unregister(_model)


class _SuperuserOnly:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(StaffAccount)
class StaffAccountAdmin(_SuperuserOnly, admin.ModelAdmin):
    list_display = ["phone", "real_name", "role", "enrolled", "recovery_codes"]
    list_filter = ["role"]
    search_fields = ["phone", "real_name"]
    actions = ["reset_second_factor"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        staff = Q(is_superuser=True) | Q(is_staff=True) | ~Q(role=User.Role.RESIDENT)
        return (
            super()
            .get_queryset(request)
            .filter(staff, is_active=True)
            .annotate(
                _enrolled=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
                _codes=Exists(StaticToken.objects.filter(device__user=OuterRef("pk"))),
            )
        )

    @admin.display(boolean=True, description=_("已设置身份验证器"), ordering="_enrolled")
    def enrolled(self, obj) -> bool:
        return obj._enrolled

    @admin.display(boolean=True, description=_("有未用的恢复码"))
    def recovery_codes(self, obj) -> bool:
        return obj._codes

    @admin.action(description=_("重置二次验证（下次登录时重新设置）"))
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        reason = (request.POST.get("reason") or "").strip()[:200]
        if request.POST.get("confirm") != "yes" or not reason:
            context = {
                **self.admin_site.each_context(request),
                "title": _("重置二次验证"),
                "accounts": list(queryset),
                "opts": self.model._meta,
                "action": "reset_second_factor",
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "missing_reason": request.POST.get("confirm") == "yes" and not reason,
            }
            return TemplateResponse(request, "staff_auth/admin_reset.html", context)
        actor = signed_in_user(request)
        for user in queryset:
            services.reset_second_factor(
                actor=actor, user=user, client_ip=client_ip(request), reason=reason
            )
        count = queryset.count()
        self.message_user(
            request,
            ngettext("已重置 %d 个账号的二次验证。", "已重置 %d 个账号的二次验证。", count) % count,
            messages.SUCCESS,
        )
        return None


@admin.register(SecondFactorReset)
class SecondFactorResetAdmin(_SuperuserOnly, admin.ModelAdmin):
    list_display = ["at", "user", "actor", "client_ip", "devices_removed", "reason"]
    list_select_related = ["user", "actor"]
    search_fields = ["user__phone", "actor__phone", "reason"]
    readonly_fields = ["at", "user", "actor", "client_ip", "devices_removed", "reason"]
