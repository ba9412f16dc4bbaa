"""Admin of merchants (superusers: all; city staff: their city's; merchant staff: their own)."""

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OutOfScopeIsNotFound
from accounts.models import City, User
from core.auth import signed_in_user
from core.errors import DomainError

from .. import services
from ..models import Merchant, MerchantCreditCheck, MerchantStaff
from ..scopes import (
    is_city_staff,
    is_merchant_staff,
    is_superuser,
    merchants_visible_to,
    staff_merchant_id,
)
from .cells import cut

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Counts(TypedDict):
    _offer_count: int
    _credit_paused: int


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
    # columns that fit 1280 px beside the filters (admin.css); the city for superusers
    list_display = [
        "name_cell",
        "credit_code",
        "city",
        "district",
        "category",
        "status",
        "credit_badge",
        "offer_count",
        "credit_paused_count",
    ]
    list_filter = [
        "status",
        "credit_grade",
        "seriously_dishonest",
        "category",
        ("city", admin.RelatedOnlyFieldListFilter),
        ("stations", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "credit_code", "address", "district"]
    list_select_related = ["city"]
    fieldsets = [
        (None, {"fields": ["name", "credit_code", "city", "district", "address", "category"]}),
        (_("联系方式与位置"), {"fields": ["contact_phone", "latitude", "longitude"]}),
        (_("营业时间"), {"fields": ["opens_at", "closes_at"]}),
        (_("合作状态"), {"fields": ["status"]}),
        (
            _("企业信用（由企业信用服务同步，不可手工修改）"),
            {"fields": ["credit_grade", "seriously_dishonest", "credit_checked_at"]},
        ),
    ]
    inlines = [MerchantStaffInline]
    actions = ["resume_credit_paused_selected"]
    _credit_fields = ["credit_grade", "seriously_dishonest", "credit_checked_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Merchant]:
        return merchants_visible_to(signed_in_user(request)).annotate(
            _offer_count=Count("offers"),
            _credit_paused=Count(
                "offers",
                filter=Q(offers__status="paused", offers__credit_paused_at__isnull=False),
            ),
        )

    def get_list_display(self, request):
        columns = list(self.list_display)
        if not is_superuser(request.user):
            columns.remove("city")  # staff see one city's merchants
        return columns

    @admin.display(description=_("名称"), ordering="name")
    def name_cell(self, merchant: Merchant):
        return cut(merchant.name, size="l")

    @admin.display(description=_("优惠数"), ordering="_offer_count")
    def offer_count(self, merchant: "WithAnnotations[Merchant, _Counts]") -> int:
        return merchant._offer_count

    @admin.display(description=_("信用暂停"), ordering="_credit_paused")
    def credit_paused_count(self, merchant: "WithAnnotations[Merchant, _Counts]") -> int:
        return merchant._credit_paused

    @admin.display(description=_("信用状况"), ordering="credit_grade")
    def credit_badge(self, merchant: Merchant):
        """The enterprise credit grade and what it means for the merchant's offers."""
        if not merchant.in_good_standing:
            if merchant.seriously_dishonest:
                return cut(_("严重失信，优惠已暂停"))
            return cut(_("D 级，优惠已暂停"))
        if not merchant.credit_grade:
            return str(_("未评级"))
        if merchant.trustworthy:
            return cut(f"{merchant.credit_grade} · {_('诚信商户')}")
        return merchant.credit_grade

    def has_resume_credit_permission(self, request) -> bool:
        return is_superuser(request.user) or is_city_staff(request.user)

    @admin.action(
        description=_("恢复因商户信用暂停的优惠"),
        permissions=["resume_credit"],
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def resume_credit_paused_selected(self, request, queryset):
        resumed, refused = 0, []
        for merchant in queryset:
            try:
                resumed += len(
                    services.resume_credit_paused_offers(actor=request.user, merchant=merchant)
                )
            except DomainError as exc:
                refused.append(f"{merchant.name}：{exc.message}")
        if resumed:
            self.message_user(
                request, _("已恢复发布 %(n)s 个优惠。") % {"n": resumed}, messages.SUCCESS
            )
        for line in refused:
            self.message_user(request, line, messages.ERROR)
        if not resumed and not refused:
            self.message_user(request, _("没有因商户信用暂停的优惠。"), messages.WARNING)

    def get_inlines(self, request, obj):
        return self.inlines if is_superuser(request.user) else []

    def get_readonly_fields(self, request, obj=None):
        user = request.user
        if is_superuser(user):
            return list(self._credit_fields)
        if is_city_staff(user):
            return ["city", *self._credit_fields] if obj is not None else self._credit_fields
        # what residents and exports show of the merchant is the city's word (services
        # refuse it too): merchant staff keep their contact details and address current
        return ["name", "credit_code", "city", "status", *self._credit_fields]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "city" and is_city_staff(request.user):
            kwargs["queryset"] = City.objects.filter(code=request.user.staff_city_id)
            kwargs["initial"] = request.user.staff_city_id
            kwargs["empty_label"] = None
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _in_scope(self, request: HttpRequest, obj: Merchant | None) -> bool:
        user = signed_in_user(request)
        if obj is None or is_superuser(user):
            return True
        if is_city_staff(user):
            return obj.city_id == user.staff_city_id
        return obj.pk == staff_merchant_id(user)

    def save_model(self, request, obj: Merchant, form, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            # a new merchant: ask the enterprise credit provider about it
            from ..tasks import check_merchant_credit

            transaction.on_commit(lambda: check_merchant_credit.delay(obj.pk))
            return
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f in form.cleaned_data}
        original = Merchant.objects.get(pk=obj.pk)
        services.update_merchant(actor=request.user, merchant=original, changes=changes)
        obj.refresh_from_db()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:  # refused by the service: nothing was saved
            self.message_user(request, str(exc.message), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

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


@admin.register(MerchantCreditCheck)
class MerchantCreditCheckAdmin(admin.ModelAdmin):
    """Append-only audit of the enterprise credit provider: read-only to everyone."""

    list_display = ["created_at", "source", "outcome", "merchant_cell", "code", "grade", "problem"]
    list_filter = ["source", "outcome"]
    search_fields = ["credit_code", "merchant__name"]
    date_hierarchy = "created_at"
    actions = None

    @admin.display(description=_("商户"), ordering="merchant__name")
    def merchant_cell(self, check: MerchantCreditCheck):
        return cut(check.merchant.name if check.merchant else "", size="s")

    @admin.display(description=_("信用代码"), ordering="credit_code")
    def code(self, check: MerchantCreditCheck):
        return cut(check.credit_code, size="s")

    @admin.display(description=_("错误"))
    def problem(self, check: MerchantCreditCheck):
        return cut(check.error)

    def get_queryset(self, request: HttpRequest):
        qs = super().get_queryset(request).select_related("merchant")
        if is_superuser(request.user):
            return qs
        return qs.filter(merchant__city_id=signed_in_user(request).staff_city_id)

    def has_module_permission(self, request) -> bool:
        return is_superuser(request.user) or is_city_staff(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
