"""Admin of incidents: the city staff's queue (confirm or dismiss a report, uphold or
overturn after an objection), with each incident's audit trail. Read-only otherwise;
decisions go through incentives.incidents.services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OutOfScopeIsNotFound
from accounts.identity import mask_name
from core.auth import signed_in_user
from core.errors import DomainError
from merchants.admin.cells import cut, local_day, local_minute
from merchants.models import Scenario
from merchants.scopes import is_city_staff, is_superuser

from . import services
from .models import Incident, IncidentEvent

BOTH = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


def scenario_label(code: str) -> str:
    """The scenario's name (信易游, …) for its code (`travel`, …)."""
    try:
        return str(Scenario(code).label)
    except ValueError:
        return code


class ScenarioFilter(admin.SimpleListFilter):
    """By scenario, named (the incident keeps the code, copied from its offer)."""

    title = _("场景")
    parameter_name = "scenario"

    def lookups(self, request, model_admin):
        return Scenario.choices

    def queryset(self, request, queryset):
        return queryset.filter(scenario=self.value()) if self.value() else queryset


_EVENT_FIELDS = ("at", "actor", "action", "from_status", "to_status", "note")


class IncidentEventInline(admin.TabularInline):
    """Who did what, when: append-only, read-only for everyone."""

    model = IncidentEvent
    extra = 0
    can_delete = False
    fields = _EVENT_FIELDS
    readonly_fields = _EVENT_FIELDS
    verbose_name_plural = _("处理记录")

    def has_view_permission(self, request, obj=None) -> bool:
        return True  # the parent admin has already scoped the incident

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=_("处理说明"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        required=False,
        help_text=_("记入处理记录；居民可依法查询。"),
    )


_INCIDENT_FIELDS = (
    "status",
    "kind",
    "scenario_name",
    "merchant",
    "offer",
    "holder",
    "what",
    "note",
    "reported_by",
    "reported_at",
    "suspended_until",
    "objection",
    "objected_at",
    "decided_at",
)


@admin.register(Incident)
class IncidentAdmin(OutOfScopeIsNotFound, admin.ModelAdmin):
    # columns that fit 1280 px beside the filters (merchants/static/xinyou-admin/admin.css)
    list_display = [
        "reported",
        "state",
        "kind_cell",
        "scenario_name",
        "merchant_cell",
        "offer_cell",
        "holder",
        "what",
        "suspended",
    ]
    list_display_links = ["reported"]
    list_filter = ["status", "kind", ScenarioFilter]
    list_select_related = ["merchant", "offer", "resident", "use", "voucher"]
    ordering = ["-reported_at"]
    inlines = [IncidentEventInline]
    actions = ["confirm_selected", "dismiss_selected", "uphold_selected", "overturn_selected"]
    fields = _INCIDENT_FIELDS
    readonly_fields = _INCIDENT_FIELDS

    @admin.display(description=_("上报时间"), ordering="reported_at")
    def reported(self, incident: Incident) -> str:
        return local_minute(incident.reported_at)

    @admin.display(description=_("状态"), ordering="status")
    def state(self, incident: Incident):
        return cut(incident.get_status_display())

    @admin.display(description=_("类型"), ordering="kind")
    def kind_cell(self, incident: Incident):
        return cut(incident.get_kind_display(), size="s")

    @admin.display(description=_("场景"), ordering="scenario")
    def scenario_name(self, incident: Incident) -> str:
        return scenario_label(incident.scenario)

    @admin.display(description=_("商户"), ordering="merchant__name")
    def merchant_cell(self, incident: Incident):
        return cut(incident.merchant.name, size="s")

    @admin.display(description=_("优惠"), ordering="offer__title")
    def offer_cell(self, incident: Incident):
        return cut(incident.offer.title, size="s")

    @admin.display(description=_("暂停至"), ordering="suspended_until")
    def suspended(self, incident: Incident):
        return local_day(incident.suspended_until)

    def get_queryset(self, request: HttpRequest):
        return services.incidents_visible_to(signed_in_user(request)).select_related(
            "merchant", "offer", "resident", "use", "voucher", "reported_by"
        )

    def has_module_permission(self, request) -> bool:
        return is_superuser(request.user) or is_city_staff(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        if not self.has_module_permission(request):
            return False
        return (
            obj is None
            or is_superuser(request.user)
            or (obj.dest_city_id == request.user.staff_city_id)
        )

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_decide_permission(self, request) -> bool:
        return self.has_module_permission(request)

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description=_("居民"))
    def holder(self, incident: Incident):
        """The masked name and the ID number's last four (the whole masked number on
        hover)."""
        resident = incident.resident
        whole = f"{mask_name(resident.real_name)} {resident.id_masked}"
        short = f"{mask_name(resident.real_name)} ****{resident.id_masked[-4:]}"
        return format_html('<span title="{}">{}</span>', whole, short)

    @admin.display(description=_("涉及"))
    def what(self, incident: Incident):
        use = incident.use
        if use is not None:
            return cut(
                _("权益使用 #%(id)s，%(at)s")
                % {"id": incident.use_id, "at": local_minute(use.used_at)},
                size="xs",
            )
        voucher = incident.voucher
        assert voucher is not None  # incident_on_use_or_voucher: a use, else a voucher
        return cut(_("优惠券 %(code)s") % {"code": voucher.code}, size="xs")

    def _decide(self, request, queryset, action: str, done) -> HttpResponse | None:
        if "apply" not in request.POST:
            form = DecisionForm()
        else:
            form = DecisionForm(request.POST)
            if form.is_valid():
                succeeded = 0
                for incident in queryset:
                    try:
                        services.decide_incident(
                            actor=request.user,
                            incident_id=incident.pk,
                            action=action,
                            note=form.cleaned_data["note"],
                        )
                        succeeded += 1
                    except DomainError as exc:
                        self.message_user(request, f"#{incident.pk}: {exc.message}", messages.ERROR)
                if succeeded:
                    self.message_user(request, done % {"n": succeeded}, messages.SUCCESS)
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": dict(DECISION_TITLES)[action],
            "opts": self.model._meta,
            "incidents": queryset,
            "form": form,
            "action": f"{action}_selected",
            "action_field": "CHANGE_FORM-action"
            if "CHANGE_FORM-action" in request.POST
            else "action",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/incentives/incident/decide.html", context)

    @admin.action(description=_("确认（暂停该场景权益）"), permissions=["decide"], location=BOTH)
    def confirm_selected(self, request, queryset):
        return self._decide(request, queryset, "confirm", _("已确认 %(n)s 个事件。"))

    @admin.action(description=_("驳回上报"), permissions=["decide"], location=BOTH)
    def dismiss_selected(self, request, queryset):
        return self._decide(request, queryset, "dismiss", _("已驳回 %(n)s 个事件。"))

    @admin.action(description=_("异议不成立，维持"), permissions=["decide"], location=BOTH)
    def uphold_selected(self, request, queryset):
        return self._decide(request, queryset, "uphold", _("已维持 %(n)s 个事件。"))

    @admin.action(
        description=_("异议成立，撤销（立即解除暂停）"), permissions=["decide"], location=BOTH
    )
    def overturn_selected(self, request, queryset):
        return self._decide(request, queryset, "overturn", _("已撤销 %(n)s 个事件。"))


DECISION_TITLES = [
    ("confirm", _("确认事件")),
    ("dismiss", _("驳回上报")),
    ("uphold", _("维持事件")),
    ("overturn", _("撤销事件")),
]
