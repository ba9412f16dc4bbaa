"""Admin of offline redemptions: read-only, scoped per role (superusers all, city staff
their city's merchants, merchant staff their own merchant). Conflicts — vouchers an offline
scanner redeemed after someone else had — are one filter away."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OutOfScopeIsNotFound
from core.auth import signed_in_user
from merchants.admin.cells import cut, local_minute, local_short
from merchants.scopes import is_city_staff, is_merchant_staff, is_superuser, staff_merchant_id

from .models import OfflineRedemption


@admin.register(OfflineRedemption)
class OfflineRedemptionAdmin(OutOfScopeIsNotFound, admin.ModelAdmin):
    # columns that fit 1280 px beside the filters (merchants/static/xinyou-admin/admin.css);
    # the merchant column for those who see several merchants (get_list_display)
    list_display = [
        "synced",
        "voucher",
        "merchant_cell",
        "outcome",
        "conflict",
        "scanned",
        "redeemed",
        "device",
        "clerk",
    ]
    list_filter = ["conflict", "outcome", ("merchant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["voucher__code", "nonce", "device_id"]
    list_select_related = ["voucher", "merchant", "staff"]
    date_hierarchy = "synced_at"
    ordering = ["-synced_at", "-id"]
    readonly_fields = [f.name for f in OfflineRedemption._meta.fields if f.name != "fingerprint"]
    exclude = ["fingerprint"]

    def get_list_display(self, request):
        columns = list(self.list_display)
        if is_merchant_staff(request.user) and not is_superuser(request.user):
            columns.remove("merchant_cell")  # their own merchant's, always
        return columns

    @admin.display(description=_("同步时间"), ordering="synced_at")
    def synced(self, row: OfflineRedemption) -> str:
        return local_minute(row.synced_at)

    @admin.display(description=_("扫码时间"), ordering="scanned_at")
    def scanned(self, row: OfflineRedemption):
        return local_short(row.scanned_at)

    @admin.display(description=_("核销时间"), ordering="redeemed_at")
    def redeemed(self, row: OfflineRedemption):
        return local_short(row.redeemed_at)

    @admin.display(description=_("商户"), ordering="merchant__name")
    def merchant_cell(self, row: OfflineRedemption):
        return cut(row.merchant.name, size="s")

    @admin.display(description=_("扫码设备"), ordering="device_id")
    def device(self, row: OfflineRedemption):
        return cut(row.device_id, size="s")

    @admin.display(description=_("核销员"), ordering="staff")
    def clerk(self, row: OfflineRedemption):
        return cut(row.staff.real_name or row.staff, size="s")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OfflineRedemption]:
        qs = super().get_queryset(request)
        user = signed_in_user(request)
        if is_superuser(user):
            return qs
        if is_city_staff(user):
            return qs.filter(city_id=user.staff_city_id)
        merchant_id = staff_merchant_id(user)
        return qs.filter(merchant_id=merchant_id) if merchant_id else qs.none()

    def has_module_permission(self, request) -> bool:
        u = request.user
        return is_superuser(u) or is_city_staff(u) or is_merchant_staff(u)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)  # the queryset scopes objects

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
