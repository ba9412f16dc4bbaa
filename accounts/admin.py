"""Admin for users and cities. ID numbers appear only masked; nobody can type one in here."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

# Importing these registers their models too: the SMS outbox, identity checks and
# agreements (security_admin), and the credit models (credit.admin).
from . import security_admin  # noqa: F401
from .credit import admin as credit_admin  # noqa: F401
from .models import Alliance, City, User
from .notices import admin as notices_admin  # noqa: F401


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "province"]
    search_fields = ["code", "name", "province"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(Alliance)
class AllianceAdmin(admin.ModelAdmin):
    """Alliances and their member cities: superusers only (alliance staff see their
    members' dashboards, never this)."""

    list_display = ["code", "name", "member_names"]
    search_fields = ["code", "name"]
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("members")

    @admin.display(description=_("成员城市"))
    def member_names(self, alliance: Alliance) -> str:
        return "、".join(city.name for city in alliance.members.all())

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["-date_joined"]
    list_display = [
        "phone",
        "real_name",
        "role",
        "home_city",
        "staff_city",
        "staff_alliance",
        "is_active",
    ]
    list_filter = ["role", "home_city", "staff_city", "staff_alliance", "is_active", "is_staff"]
    search_fields = ["phone", "real_name"]
    readonly_fields = ["id_masked", "date_joined", "last_login", "closed_at"]
    fieldsets = [
        (None, {"fields": ["phone", "password"]}),
        (
            _("身份"),
            {
                "fields": [
                    "real_name",
                    "role",
                    "home_city",
                    "staff_city",
                    "staff_alliance",
                    "id_masked",
                ]
            },
        ),
        (_("权限"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("时间"), {"fields": ["last_login", "date_joined", "closed_at"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "phone",
                    "role",
                    "staff_city",
                    "staff_alliance",
                    "password1",
                    "password2",
                ],
            },
        ),
    ]

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser
