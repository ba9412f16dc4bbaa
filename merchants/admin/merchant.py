"""Admin of merchants (superusers: all; city staff: their city's; merchant staff: their own)."""

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OutOfScopeIsNotFound
from accounts.models import City, User

from ..models import Merchant, MerchantStaff
from ..scopes import (
    is_city_staff,
    is_merchant_staff,
    is_superuser,
    merchants_visible_to,
    staff_merchant_id,
)


class MerchantStaffInline(admin.TabularInline):
    model = MerchantStaff
    extra = 0
    verbose_name = _("员工账号")
    verbose_name_plural = _("员工账号（角色须为“商户员工”）")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = User.objects.filter(role=User.Role.MERCHANT_STAFF)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Only superusers manage logins (the inline is shown to them only).
    def has_view_permission(self, request, obj=None) -> bool:
        return is_superuser(request.user)

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


@admin.register(Merchant)
class MerchantAdmin(OutOfScopeIsNotFound, admin.ModelAdmin):
    list_display = [
        "name",
        "credit_code",
        "city",
        "district",
        "category",
        "status",
        "offer_count",
    ]
    list_filter = [
        "status",
        "category",
        ("city", admin.RelatedOnlyFieldListFilter),
        ("stations", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "credit_code", "address", "district"]
    list_select_related = ["city"]
    fieldsets = [
        (None, {"fields": ["name", "credit_code", "city", "district", "address", "category"]}),
        (_("联系方式与位置"), {"fields": ["contact_phone", "latitude", "longitude"]}),
        (_("合作状态"), {"fields": ["status"]}),
    ]
    inlines = [MerchantStaffInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Merchant]:
        return merchants_visible_to(request.user).annotate(_offer_count=Count("offers"))

    @admin.display(description=_("优惠数"), ordering="_offer_count")
    def offer_count(self, merchant: Merchant) -> int:
        return merchant._offer_count

    def get_inlines(self, request, obj):
        return self.inlines if is_superuser(request.user) else []

    def get_readonly_fields(self, request, obj=None):
        user = request.user
        if is_superuser(user):
            return []
        if is_city_staff(user):
            return ["city"] if obj is not None else []
        return ["credit_code", "city", "status"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "city" and is_city_staff(request.user):
            kwargs["queryset"] = City.objects.filter(code=request.user.staff_city_id)
            kwargs["initial"] = request.user.staff_city_id
            kwargs["empty_label"] = None
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _in_scope(self, request: HttpRequest, obj: Merchant | None) -> bool:
        user = request.user
        if obj is None or is_superuser(user):
            return True
        if is_city_staff(user):
            return obj.city_id == user.staff_city_id
        return obj.pk == staff_merchant_id(user)

    def has_module_permission(self, request) -> bool:
        u = request.user
        return is_superuser(u) or is_city_staff(u) or is_merchant_staff(u)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request) and self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return is_superuser(request.user) or is_city_staff(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_superuser(request.user)
