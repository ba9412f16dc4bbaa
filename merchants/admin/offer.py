"""Admin of offers: merchant staff write and submit them, city staff review them; every
save and workflow button goes through merchants.services (merchants.workflow decides
which actions exist)."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OutOfScopeIsNotFound
from core.auth import signed_in_user
from core.errors import DomainError

from .. import services, workflow
from ..models import Merchant, Offer, OfferTransition
from ..scopes import (
    is_city_staff,
    is_merchant_staff,
    is_superuser,
    may,
    merchants_visible_to,
    offers_visible_to,
    roles_on_offer,
    staff_merchant_id,
)
from .cells import cut, local_day, local_minute, short_label
from .forms import OfferForm, RejectForm


def _local(at) -> str:
    """A time in the service's time zone, to the minute."""
    return local_minute(at)


def _error_text(exc: DomainError) -> str:
    """The error's message followed by its per-field details, for an admin message."""
    parts = [str(exc.message)]
    for field, problems in (exc.detail or {}).items():
        if isinstance(problems, list):
            parts.append(f"{field}: {'；'.join(str(p) for p in problems)}")
    return " ".join(parts)


_HISTORY_FIELDS: tuple[str, ...] = (
    "at",
    "actor",
    "action",
    "from_status",
    "to_status",
    "reason",
    "terms_version",
)


class OfferTransitionInline(admin.TabularInline):
    """The offer's review history, read-only for everyone who may see the offer."""

    model = OfferTransition
    extra = 0
    can_delete = False
    fields = _HISTORY_FIELDS
    readonly_fields = _HISTORY_FIELDS
    verbose_name_plural = _("审核记录")

    def has_view_permission(self, request, obj=None) -> bool:
        return True  # the parent admin has already scoped the offer

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# Workflow actions are offered in the changelist (bulk) and on each offer's page; there
# only those this user may take on this offer in its status (OfferAdmin.get_actions).
BOTH = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]

# admin action → workflow action
WORKFLOW_ACTION = {
    "submit_selected": "submit",
    "withdraw_selected": "withdraw",
    "publish_selected": "publish",
    "reject_selected": "reject",
    "pause_selected": "pause",
    "resume_selected": "resume",
    "end_selected": "end",
}

# Fields that mean something for one kind of offer only: on an existing offer's page the
# other kind's fields and help are left out (on the add page both show).
VOUCHER_ONLY = (
    "total_quota",
    "claimed_count",
    "remaining",
    "per_resident_limit",
    "voucher_lifetime_hours",
)
ENTITLEMENT_ONLY = ("limit_per_period", "period")


def actions_on(user, offer: Offer) -> set[str]:
    """The workflow actions `user` may take on `offer` as it stands (merchants.workflow):
    a draft is never paused or resumed, a live offer never submitted. A change of terms
    waiting on a published or paused offer is approved or rejected (publish, reject)."""
    revision = offer.status in workflow.REVIEWED_STATUSES and bool(offer.pending_terms)
    return {
        action
        for action in workflow.TRANSITIONS
        if (
            workflow.leads_to(action, offer.status) is not None
            or (revision and action in ("publish", "reject"))
        )
        and may(user, action, offer)
    }


class PendingRevisionFilter(admin.SimpleListFilter):
    """Published or paused offers whose change of terms waits for the city's review."""

    title = _("待审核的条款修改")
    parameter_name = "revision"

    def lookups(self, request, model_admin):
        return [("pending", _("有待审核的修改"))]

    def queryset(self, request, queryset):
        return queryset.exclude(pending_terms={}) if self.value() == "pending" else queryset


class CreditPauseFilter(admin.SimpleListFilter):
    """Offers the enterprise credit sync paused (the home page links here)."""

    title = _("因商户信用暂停")
    parameter_name = "credit"

    def lookups(self, request, model_admin):
        return [("paused", _("因商户信用暂停"))]

    def queryset(self, request, queryset):
        if self.value() == "paused":
            return queryset.filter(status=Offer.Status.PAUSED, credit_paused_at__isnull=False)
        return queryset


@admin.register(Offer)
class OfferAdmin(OutOfScopeIsNotFound, admin.ModelAdmin):
    form = OfferForm
    # Columns that fit 1280 px beside the filters (admin.css); the merchant column for
    # those who see several merchants, the city for superusers (get_list_display).
    list_display = [
        "title_cell",
        "merchant_cell",
        "city",
        "kind_scenario",
        "benefit",
        "state",
        "ends",
        "remaining",
    ]
    list_filter = [
        "status",
        "kind",
        "scenario",
        PendingRevisionFilter,
        CreditPauseFilter,
        "category",
        "benefit_type",
        "merchant__credit_grade",
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
        (
            _("优惠内容"),
            {"fields": ["benefit_type", "benefit_value", "benefit_note", "list_price"]},
        ),
        (
            _("适用条件"),
            {
                "fields": [
                    "min_tier",
                    "min_score",
                    "min_grade",
                    "required_honour",
                    "home_city_rule",
                    "eligible_home_cities",
                    "eligible_alliance",
                ]
            },
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
            {
                "fields": [
                    "status",
                    "credit_pause",
                    "goes_live",
                    "pending",
                    "terms_version",
                    "published_at",
                ]
            },
        ),
    ]
    _always_readonly = [
        "claimed_count",
        "remaining",
        "status",
        "credit_pause",
        "goes_live",
        "pending",
        "rejection_reason",
        "terms_version",
        "published_at",
    ]

    # scoping and permissions -----------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Offer]:
        return offers_visible_to(signed_in_user(request))

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
        return obj.status in workflow.EDITABLE_STATUSES and may(request.user, "revise", obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Only drafts that never went out may be deleted; anything else is ended instead.
        if obj is None:
            return self.has_add_permission(request)
        return obj.status in workflow.DELETABLE_STATUSES and may(request.user, "revise", obj)

    def delete_model(self, request, obj: Offer) -> None:
        services.delete_offer(actor=request.user, offer=obj)

    # the custom action permissions named in @admin.action(permissions=[...])
    def has_submit_permission(self, request) -> bool:
        return is_superuser(request.user) or is_merchant_staff(request.user)

    def has_review_permission(self, request) -> bool:
        return is_superuser(request.user) or is_city_staff(request.user)

    def has_pause_permission(self, request) -> bool:
        return self.has_module_permission(request)

    def get_list_display(self, request):
        columns = list(self.list_display)
        if not is_superuser(request.user):
            columns.remove("city")  # city staff see their own city's offers only
            if is_merchant_staff(request.user):
                columns.remove("merchant_cell")  # ... and merchant staff their own
        return columns

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)  # deletion goes through the change page only
        offer = getattr(request, "_offer_on_page", None)
        if action_location == ActionLocation.CHANGE_FORM and offer is not None:
            allowed = actions_on(request.user, offer)
            for name in [n for n in actions if WORKFLOW_ACTION.get(n) not in allowed]:
                del actions[name]
        return actions

    # the form ---------------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and obj.kind == Offer.Kind.VOUCHER:
            # a voucher offer: no per-period limit, no help about entitlements
            fieldsets = [fs for fs in fieldsets if ENTITLEMENT_ONLY[0] not in fs[1]["fields"]]
        elif obj is not None and obj.kind == Offer.Kind.ENTITLEMENT:
            # an entitlement: nothing is claimed, so no quota, claims or voucher lifetime
            fieldsets = [
                (title, {**opts, "fields": [f for f in opts["fields"] if f not in VOUCHER_ONLY]})
                for title, opts in fieldsets
            ]
        if obj is not None and obj.status == Offer.Status.REJECTED and obj.rejection_reason:
            # What the city asked to change comes first, above the long form.
            rejection = (
                _("城市工作人员驳回了此优惠"),
                {
                    "fields": ["rejection_reason"],
                    "classes": ["rejection"],
                    "description": _("请按以下原因修改，然后选择“提交审核”。"),
                },
            )
            fieldsets.insert(0, rejection)
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and obj.kind == Offer.Kind.VOUCHER and "kind" in form.base_fields:
            form.base_fields["kind"].help_text = ""  # the help is about entitlements
        return form

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
            before = dict(Offer.objects.get(pk=obj.pk).pending_terms)
            changes = {f: v for f, v in fields.items() if f in form.changed_data}
            offer = services.revise_offer(actor=request.user, offer=obj, changes=changes)
            if offer.pending_terms != before:
                self.message_user(
                    request,
                    _(
                        "条款修改已提交城市审核；审核通过前，居民仍看到原条款，"
                        "已发放的券仍按原条款有效。"
                    ),
                    messages.WARNING,
                )
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change) -> None:
        # The home-city list was set by the service; only the (read-only) inlines remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # the offer of this page, for the actions it offers (get_actions)
        offer = self.get_object(request, unquote(object_id)) if object_id else None
        request._offer_on_page = offer
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            # A refusal found under the row lock (e.g. quota now below claims): nothing
            # was saved; show why and go back to the form.
            self.message_user(request, _error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # columns ------------------------------------------------------------------------------

    @admin.display(description=_("标题"), ordering="title")
    def title_cell(self, offer: Offer):
        return cut(offer.title, size="l")

    @admin.display(description=_("商户"), ordering="merchant__name")
    def merchant_cell(self, offer: Offer):
        return cut(offer.merchant.name, size="s")

    @admin.display(description=_("形式与场景"), ordering="kind")
    def kind_scenario(self, offer: Offer) -> str:
        kind = short_label(offer.get_kind_display())
        return f"{kind} · {offer.get_scenario_display()}" if offer.scenario else kind

    @admin.display(description=_("状态"), ordering="status")
    def state(self, offer: Offer):
        """The status, with what residents see of it (goes live when, paused why) and a
        change of terms waiting for review."""
        parts = [str(offer.get_status_display())]
        live = self.goes_live(offer)
        if live != "—":
            parts.append(live)
        paused = self.credit_pause(offer)
        if paused != "—":
            parts.append(paused)
        if offer.pending_terms:
            parts.append(str(_("条款修改待审核")))
        return cut(" · ".join(parts))

    @admin.display(description=_("结束时间"), ordering="valid_until")
    def ends(self, offer: Offer):
        return local_day(offer.valid_until)

    @admin.display(description=_("因商户信用暂停"))
    def credit_pause(self, offer: Offer) -> str:
        """Why the credit sync paused it (city staff resume it from the merchant list)."""
        if offer.credit_paused_at is None or offer.status != Offer.Status.PAUSED:
            return "—"
        merchant = offer.merchant
        why = (
            _("列入严重失信主体名单")
            if merchant.seriously_dishonest
            else _("企业信用等级 %(g)s") % {"g": merchant.credit_grade or "—"}
        )
        return _("%(at)s 起暂停：%(why)s") % {
            "at": local_minute(offer.credit_paused_at),
            "why": why,
        }

    @admin.display(description=_("城市"), ordering="merchant__city")
    def city(self, offer: Offer) -> str:
        return offer.merchant.city.name

    @admin.display(description=_("优惠"))
    def benefit(self, offer: Offer):
        label = short_label(offer.get_benefit_type_display())
        if offer.benefit_value is None:
            return cut(label, size="s")
        if offer.benefit_type == Offer.BenefitType.PERCENT_OFF:
            return cut(f"{label} {offer.benefit_value.normalize():f}%", size="s")
        return cut(f"{label} ¥{offer.benefit_value}", size="s")

    @admin.display(description=_("上线"))
    def goes_live(self, offer: Offer) -> str:
        """When residents see a published offer: an offer approved before its start is
        listed from `valid_from` on (merchants.selectors.published_offers)."""
        if offer.status != Offer.Status.PUBLISHED:
            return "—"
        now = timezone.now()
        if offer.valid_from > now:
            return str(_("将于 %(at)s 上线") % {"at": _local(offer.valid_from)})
        if offer.valid_until <= now:
            return str(_("已过结束时间"))
        return str(_("已上线"))

    @admin.display(description=_("待审核的条款修改"))
    def pending(self, offer: Offer) -> str:
        rows = services.pending_changes(offer) if offer.pk else []
        if not rows:
            return "—"
        return "；".join(
            f"{services.offer_field(field).verbose_name}：{old} → {new}" for field, old, new in rows
        )

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
        later = queryset.filter(status=Offer.Status.PUBLISHED, valid_from__gt=timezone.now())
        for offer in later.order_by("valid_from"):
            self.message_user(
                request,
                _("《%(title)s》将于开始时间 %(at)s 上线，届时居民才能看到。")
                % {"title": offer.title, "at": _local(offer.valid_from)},
                messages.INFO,
            )

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
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
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
