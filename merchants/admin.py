"""Django admin for merchants, stations and offers, scoped per role.

Merchant and city staff are not superusers and hold no auth.Permission rows: every
`has_*_permission` below decides by role and scope (merchants.scopes), and every queryset
is scoped, so another merchant's object by URL or by forged POST is "does not exist".
Workflow buttons call the services; no business rule lives here.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OutOfScopeIsNotFound
from accounts.models import City, User
from core.errors import DomainError

from . import services
from .models import Merchant, MerchantStaff, Offer, OfferTransition, Station
from .scopes import (
    is_city_staff,
    is_merchant_staff,
    is_superuser,
    may,
    merchants_visible_to,
    offers_visible_to,
    roles_on_offer,
    staff_merchant_id,
    stations_visible_to,
)


def _error_text(exc: DomainError) -> str:
    """The error's message followed by its per-field details, for an admin message."""
    parts = [str(exc.message)]
    for field, problems in (exc.detail or {}).items():
        if isinstance(problems, list):
            parts.append(f"{field}: {'；'.join(str(p) for p in problems)}")
    return " ".join(parts)


# --- merchants ------------------------------------------------------------------------


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


# --- stations ---------------------------------------------------------------------------


class StationForm(forms.ModelForm):
    class Meta:
        model = Station
        fields = ["name", "city", "description", "merchants"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        city = data.get("city") or getattr(self.instance, "city", None)
        outside = [m.name for m in data.get("merchants") or [] if city and m.city_id != city.pk]
        if outside:
            self.add_error(
                "merchants",
                _("以下商户不在该站点所在城市：%(names)s") % {"names": "、".join(outside)},
            )
        return data


@admin.register(Station)
class StationAdmin(OutOfScopeIsNotFound, admin.ModelAdmin):
    form = StationForm
    list_display = ["name", "city", "merchant_count"]
    list_filter = [("city", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "merchants__name"]
    filter_horizontal = ["merchants"]
    list_select_related = ["city"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Station]:
        return stations_visible_to(request.user).annotate(_merchant_count=Count("merchants"))

    @admin.display(description=_("商户数"), ordering="_merchant_count")
    def merchant_count(self, station: Station) -> int:
        return station._merchant_count

    def get_readonly_fields(self, request, obj=None):
        return ["city"] if obj is not None and not is_superuser(request.user) else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "city" and is_city_staff(request.user):
            kwargs["queryset"] = City.objects.filter(code=request.user.staff_city_id)
            kwargs["initial"] = request.user.staff_city_id
            kwargs["empty_label"] = None
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "merchants":
            kwargs["queryset"] = merchants_visible_to(request.user).select_related("city")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_module_permission(self, request) -> bool:
        return is_superuser(request.user) or is_city_staff(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        if not self.has_module_permission(request):
            return False
        return (
            obj is None or is_superuser(request.user) or obj.city_id == request.user.staff_city_id
        )

    has_change_permission = has_delete_permission = has_view_permission

    def has_add_permission(self, request) -> bool:
        return self.has_module_permission(request)


# --- offers -----------------------------------------------------------------------------


class OfferForm(forms.ModelForm):
    class Meta:
        model = Offer
        fields = ["merchant", *Offer.EDITABLE_FIELDS]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "description_en": forms.Textarea(attrs={"rows": 3}),
            "usage_notes": forms.Textarea(attrs={"rows": 4}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        rule = data.get("home_city_rule")
        if rule == Offer.HomeCityRule.LISTED and not data.get("eligible_home_cities"):
            self.add_error(
                "eligible_home_cities", _("“适用居民”为“指定城市”时，请至少选择一个城市。")
            )
        elif rule and rule != Offer.HomeCityRule.LISTED:
            data["eligible_home_cities"] = City.objects.none()
        return data


class OfferTransitionInline(admin.TabularInline):
    """The offer's review history, read-only for everyone who may see the offer."""

    model = OfferTransition
    extra = 0
    can_delete = False
    fields = ["at", "actor", "action", "from_status", "to_status", "reason", "terms_version"]
    readonly_fields = fields
    verbose_name_plural = _("审核记录")

    def has_view_permission(self, request, obj=None) -> bool:
        return True  # the parent admin has already scoped the offer

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# Workflow actions are offered in the changelist (bulk) and on each offer's page.
BOTH = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("驳回原因"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=1000,
        help_text=_("商户会看到这段文字，请写明需要修改的地方。"),
    )


@admin.register(Offer)
class OfferAdmin(OutOfScopeIsNotFound, admin.ModelAdmin):
    form = OfferForm
    list_display = [
        "title",
        "merchant",
        "city",
        "category",
        "kind",
        "scenario",
        "benefit",
        "status",
        "valid_until",
        "remaining",
        "terms_version",
    ]
    list_filter = [
        "status",
        "kind",
        "scenario",
        "category",
        "benefit_type",
        ("merchant__city", admin.RelatedOnlyFieldListFilter),
        ("merchant__stations", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["title", "title_en", "merchant__name"]
    list_select_related = ["merchant", "merchant__city"]
    date_hierarchy = "valid_from"
    filter_horizontal = ["eligible_home_cities"]
    inlines = [OfferTransitionInline]
    actions = [
        "submit_selected",
        "withdraw_selected",
        "publish_selected",
        "reject_selected",
        "pause_selected",
        "resume_selected",
        "end_selected",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "merchant",
                    "kind",
                    "scenario",
                    "title",
                    "title_en",
                    "category",
                    "description",
                    "description_en",
                ]
            },
        ),
        (_("优惠内容"), {"fields": ["benefit_type", "benefit_value", "benefit_note"]}),
        (
            _("适用条件"),
            {"fields": ["min_tier", "min_score", "home_city_rule", "eligible_home_cities"]},
        ),
        (
            _("有效期与名额"),
            {
                "fields": [
                    "valid_from",
                    "valid_until",
                    "total_quota",
                    "claimed_count",
                    "remaining",
                    "per_resident_limit",
                    "voucher_lifetime_hours",
                ]
            },
        ),
        (
            _("信用权益（凭信用码使用）"),
            {
                "fields": ["limit_per_period", "period"],
                "description": _("优惠形式为“信用权益”时填写；优惠券的名额与有效时长不适用。"),
            },
        ),
        (_("使用说明"), {"fields": ["usage_notes"]}),
        (
            _("审核"),
            {"fields": ["status", "rejection_reason", "terms_version", "published_at"]},
        ),
    ]
    _always_readonly = [
        "claimed_count",
        "remaining",
        "status",
        "rejection_reason",
        "terms_version",
        "published_at",
    ]

    # scoping and permissions -----------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Offer]:
        return offers_visible_to(request.user)

    def has_module_permission(self, request) -> bool:
        u = request.user
        return is_superuser(u) or is_city_staff(u) or is_merchant_staff(u)

    def has_view_permission(self, request, obj=None) -> bool:
        if not self.has_module_permission(request):
            return False
        return obj is None or bool(roles_on_offer(request.user, obj))

    def has_add_permission(self, request) -> bool:
        return is_superuser(request.user) or is_merchant_staff(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        # City staff review through the actions; they never edit a merchant's wording.
        if obj is None:
            return self.has_add_permission(request)
        return obj.status in Offer.EDITABLE_STATUSES and may(request.user, "revise", obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Only drafts that never went out may be deleted; anything else is ended instead.
        if obj is None:
            return self.has_add_permission(request)
        return obj.status == Offer.Status.DRAFT and may(request.user, "revise", obj)

    # the custom action permissions named in @admin.action(permissions=[...])
    def has_submit_permission(self, request) -> bool:
        return is_superuser(request.user) or is_merchant_staff(request.user)

    def has_review_permission(self, request) -> bool:
        return is_superuser(request.user) or is_city_staff(request.user)

    def has_pause_permission(self, request) -> bool:
        return self.has_module_permission(request)

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)  # deletion goes through the change page only
        return actions

    # the form ---------------------------------------------------------------------------

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self._always_readonly)
        if obj is not None:
            readonly.append("merchant")  # an offer never moves to another merchant
        return readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "merchant":
            merchant_id = staff_merchant_id(request.user)
            if merchant_id is not None and not is_superuser(request.user):
                kwargs["queryset"] = Merchant.objects.filter(pk=merchant_id)
                kwargs["initial"] = merchant_id
                kwargs["empty_label"] = None
            else:
                kwargs["queryset"] = merchants_visible_to(request.user).filter(
                    status=Merchant.Status.ACTIVE
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # saving goes through the services --------------------------------------------------

    def save_model(self, request, obj: Offer, form, change: bool) -> None:
        fields = {f: form.cleaned_data[f] for f in Offer.EDITABLE_FIELDS if f in form.cleaned_data}
        if not change:
            offer = services.create_offer(
                actor=request.user, merchant=form.cleaned_data["merchant"], fields=fields
            )
            obj.pk = offer.pk
            obj._state.adding = False
        else:
            before = obj.terms_version
            changes = {f: v for f, v in fields.items() if f in form.changed_data}
            offer = services.revise_offer(actor=request.user, offer=obj, changes=changes)
            if offer.terms_version != before:
                self.message_user(
                    request,
                    _(
                        "条款已修改，优惠已重新提交审核（条款版本 %(v)s）；"
                        "已发放的券仍按原条款有效。"
                    )
                    % {"v": offer.terms_version},
                    messages.WARNING,
                )
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change) -> None:
        # The home-city list was set by the service; only the (read-only) inlines remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            # A refusal found under the row lock (e.g. quota now below claims): nothing
            # was saved; show why and go back to the form.
            self.message_user(request, _error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # columns ------------------------------------------------------------------------------

    @admin.display(description=_("城市"), ordering="merchant__city")
    def city(self, offer: Offer) -> str:
        return offer.merchant.city.name

    @admin.display(description=_("优惠"))
    def benefit(self, offer: Offer) -> str:
        label = offer.get_benefit_type_display()
        if offer.benefit_value is None:
            return str(label)
        if offer.benefit_type == Offer.BenefitType.PERCENT_OFF:
            return f"{label} {offer.benefit_value.normalize():f}%"
        return f"{label} ¥{offer.benefit_value}"

    @admin.display(description=_("剩余名额"))
    def remaining(self, offer: Offer) -> str:
        left = offer.remaining_quota
        return str(_("不限")) if left is None else f"{left} / {offer.total_quota}"

    # workflow actions ---------------------------------------------------------------------

    def _run(
        self,
        request: HttpRequest,
        queryset: QuerySet[Offer],
        service: Callable[..., Offer],
        done: Any,
        **kwargs: Any,
    ) -> None:
        succeeded, refused = 0, []
        for offer in queryset.select_related("merchant"):
            try:
                service(actor=request.user, offer=offer, **kwargs)
                succeeded += 1
            except DomainError as exc:
                refused.append(f"《{offer.title}》：{exc.message}")
        if succeeded:
            self.message_user(request, done % {"n": succeeded}, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.ERROR)
        if not succeeded and not refused:
            self.message_user(request, _("没有可操作的优惠。"), messages.WARNING)

    @admin.action(description=_("提交审核"), permissions=["submit"], location=BOTH)
    def submit_selected(self, request, queryset):
        self._run(request, queryset, services.submit_offer, _("已提交审核 %(n)s 个优惠。"))

    @admin.action(description=_("撤回审核（回到草稿）"), permissions=["submit"], location=BOTH)
    def withdraw_selected(self, request, queryset):
        self._run(request, queryset, services.withdraw_offer, _("已撤回 %(n)s 个优惠。"))

    @admin.action(description=_("审核通过并发布"), permissions=["review"], location=BOTH)
    def publish_selected(self, request, queryset):
        self._run(request, queryset, services.publish_offer, _("已发布 %(n)s 个优惠。"))

    @admin.action(description=_("驳回（需填写原因）"), permissions=["review"], location=BOTH)
    def reject_selected(self, request, queryset) -> HttpResponse | None:
        if "apply" in request.POST:
            form = RejectForm(request.POST)
            if form.is_valid():
                self._run(
                    request,
                    queryset,
                    services.reject_offer,
                    _("已驳回 %(n)s 个优惠。"),
                    reason=form.cleaned_data["reason"],
                )
                return None
        else:
            form = RejectForm()
        context = {
            **self.admin_site.each_context(request),
            "title": _("驳回优惠"),
            "opts": self.model._meta,
            "offers": queryset.select_related("merchant"),
            "form": form,
            "action": "reject_selected",
            # the change page's action form is prefixed, the changelist's is not
            "action_field": "CHANGE_FORM-action"
            if "CHANGE_FORM-action" in request.POST
            else "action",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/merchants/offer/reject.html", context)

    @admin.action(description=_("暂停"), permissions=["pause"], location=BOTH)
    def pause_selected(self, request, queryset):
        self._run(request, queryset, services.pause_offer, _("已暂停 %(n)s 个优惠。"))

    @admin.action(description=_("恢复发布"), permissions=["pause"], location=BOTH)
    def resume_selected(self, request, queryset):
        self._run(request, queryset, services.resume_offer, _("已恢复 %(n)s 个优惠。"))

    @admin.action(description=_("结束"), permissions=["review"], location=BOTH)
    def end_selected(self, request, queryset):
        self._run(request, queryset, services.end_offer, _("已结束 %(n)s 个优惠。"))
