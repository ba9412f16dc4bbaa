"""Risk signals in admin: city staff see their city's, read why each fired and the rows
behind it, and mark it looked at, dismiss it with a reason or escalate it (the change
form's state and reason go through incentives.risk.services.change_state)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OutOfScopeIsNotFound
from core.auth import signed_in_user
from core.errors import DomainError
from merchants.admin.cells import cut
from merchants.scopes import is_city_staff, is_superuser

from . import explain, selectors, services
from .models import RiskSignal

_READ_ONLY = (
    "kind",
    "city",
    "day",
    "subject",
    "why",
    "rows_table",
    "first_seen",
    "last_seen",
    "state_by",
    "state_at",
    "incident",
)


class StateForm(forms.ModelForm):
    state = forms.ChoiceField(label=_("状态"), choices=RiskSignal.State.choices)

    class Meta:
        model = RiskSignal
        fields = ["state", "state_reason"]

    def clean(self):
        data = super().clean()
        if (
            data.get("state") == RiskSignal.State.DISMISSED
            and not (data.get("state_reason") or "").strip()
        ):
            raise ValidationError({"state_reason": _("排除信号须说明原因。")})
        return data


@admin.register(RiskSignal)
class RiskSignalAdmin(OutOfScopeIsNotFound, admin.ModelAdmin):
    form = StateForm
    list_display = ["day", "kind_short", "city", "subject_short", "why_short", "state"]
    list_filter = ["state", "kind", "day"]
    list_select_related = ["city"]
    search_fields = ["subject"]
    ordering = ["-day", "-pk"]
    fields = (*_READ_ONLY, "state", "state_reason")
    readonly_fields = _READ_ONLY
    actions = ["mark_looked_at"]

    def get_queryset(self, request: HttpRequest):
        return selectors.signals_visible_to(signed_in_user(request)).select_related(
            "city", "state_by", "incident"
        )

    def has_module_permission(self, request) -> bool:
        return is_superuser(request.user) or is_city_staff(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        if not self.has_module_permission(request):  # (alliance staff: no admin access)
            return False
        return obj is None or obj.state != RiskSignal.State.ESCALATED

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("原因"))
    def why(self, signal: RiskSignal) -> str:
        return explain.why(signal)

    @admin.display(description=_("原因"))
    def why_short(self, signal: RiskSignal):
        return cut(explain.why(signal), size="l")

    @admin.display(description=_("对象"), ordering="subject")
    def subject_short(self, signal: RiskSignal):
        return cut(signal.subject)

    @admin.display(description=_("类型"), ordering="kind")
    def kind_short(self, signal: RiskSignal):
        return cut(signal.get_kind_display(), size="s")

    @admin.display(description=_("相关记录"))
    def rows_table(self, signal: RiskSignal):
        if not signal.rows:
            return "-"
        keys = [k for k in signal.rows[0] if k != "type"]
        head = format_html_join("", "<th scope='col'>{}</th>", ((k,) for k in keys))
        body = format_html_join(
            "",
            "<tr>{}</tr>",
            (
                (format_html_join("", "<td>{}</td>", ((row.get(k, ""),) for k in keys)),)
                for row in signal.rows
            ),
        )
        return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)

    def save_model(self, request, obj: RiskSignal, form, change: bool) -> None:
        if obj.state == RiskSignal.State.NEW:
            return  # nothing to record: "new" is where signals start
        try:
            services.change_state(
                actor=signed_in_user(request),
                signal_id=obj.pk,
                state=obj.state,
                reason=obj.state_reason,
            )
        except DomainError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)

    @admin.action(description=_("标记为已查看"))
    def mark_looked_at(self, request, queryset):
        done = 0
        for signal in queryset.filter(state=RiskSignal.State.NEW):
            services.change_state(
                actor=signed_in_user(request), signal_id=signal.pk, state="looked_at"
            )
            done += 1
        self.message_user(request, _("已标记 %(n)s 个信号。") % {"n": done}, messages.SUCCESS)
