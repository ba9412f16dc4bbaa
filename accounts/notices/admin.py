"""Admin of the notices: the dead letters (SMS not delivered after every try), read-only,
for city staff (residents of their city) and superusers. Phones appear masked."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OutOfScopeIsNotFound
from accounts.identity import mask_phone
from core import roles

from .models import DeadLetter

_FIELDS = (
    "kind",
    "city",
    "masked_phone",
    "created_at",
    "attempts",
    "last_error",
    "request_id",
)


@admin.register(DeadLetter)
class DeadLetterAdmin(OutOfScopeIsNotFound, admin.ModelAdmin):
    list_display = ["created_at", "kind", "city", "masked_phone", "attempts", "last_error"]
    list_filter = ["kind"]
    fields = _FIELDS
    readonly_fields = _FIELDS
    ordering = ["-created_at", "-id"]

    def get_queryset(self, request: HttpRequest):
        rows = DeadLetter.objects.select_related("city")
        user = request.user
        if roles.is_superuser(user):
            return rows
        if roles.is_city_staff(user):
            return rows.filter(city_id=getattr(user, "staff_city_id", None))
        return rows.none()

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: DeadLetter) -> str:
        return mask_phone(obj.phone) if obj.phone else "—"

    def has_module_permission(self, request) -> bool:
        return roles.is_superuser(request.user) or roles.is_city_staff(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        if not self.has_module_permission(request):
            return False
        return (
            obj is None
            or roles.is_superuser(request.user)
            or obj.city_id == getattr(request.user, "staff_city_id", None)
        )

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
