"""The audit trail and the access log in admin: superusers only, read-only, searchable
(object, user, address, date) and exportable as CSV."""

import ipaddress
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import ActionLocation
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.identity import PHONE_RE
from accounts.models import User
from core import roles
from incentives.dashboard.views import neutralise

from . import trail
from .models import EVENT_MODELS, AccessLog, TrailEntry


class _SuperuserReadOnly(admin.ModelAdmin):
    actions = ["export_csv"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return roles.is_superuser(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return roles.is_superuser(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(
        self, request: HttpRequest, action_location: ActionLocation = ActionLocation.CHANGE_LIST
    ) -> dict:
        # the action runs for a viewer (Django's own delete action is off: no delete)
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions


def _user_ids_for(term: str) -> list[int]:
    """Users a search term names: an id (#12), a phone, or a phone's last digits."""
    digits = term[1:]
    # ASCII digits that fit a bigint: "#²" is no id (int() refused it: a 500), nor is a
    # number longer than any id
    if term.startswith("#") and digits.isascii() and digits.isdigit() and len(digits) <= 18:
        return [int(digits)]
    if PHONE_RE.match(term):
        return list(User.objects.filter(phone=term).values_list("pk", flat=True))
    return []


@admin.register(TrailEntry)
class TrailEntryAdmin(_SuperuserReadOnly):
    """Every change of the tracked tables. Search: a user (#id or phone), an address,
    an object id, or part of a path; filters: table, event, date."""

    list_display = ["pgh_created_at", "kind", "pgh_obj_id", "pgh_label", "who", "ip", "changes"]
    list_filter = ["pgh_model", "pgh_label", ("pgh_created_at", admin.DateFieldListFilter)]
    search_fields = ["pgh_obj_id"]  # the real search is get_search_results
    search_help_text = _("按操作人（#编号或手机号）、来源地址、对象编号或路径查找")
    ordering = ["-pgh_created_at", "-pgh_id"]
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> Any:
        return trail.all_entries()

    def lookup_allowed(self, lookup: str, value: Any, request: HttpRequest) -> bool:
        # links from other pages: ?user=12, ?pgh_obj_id=5, ?ip=..., ?pgh_created_at__gte=...
        if lookup in {"user", "user__exact", "user_id", "ip", "pgh_obj_id", "pgh_obj_model"}:
            return True
        if lookup.startswith("pgh_created_at__"):
            return True
        return super().lookup_allowed(lookup, value, request)

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        term = search_term.strip()
        if not term:
            return queryset, False
        users = _user_ids_for(term)
        if users:
            return queryset.filter(user__in=users), False
        try:
            return queryset.filter(ip=str(ipaddress.ip_address(term))), False
        except ValueError:
            pass
        if term.isdigit():
            return queryset.filter(pgh_obj_id=term), False
        return queryset.filter(Q(url__icontains=term) | Q(pgh_label=term)), False

    def get_list_filter(self, request: HttpRequest) -> list:
        return self.list_filter

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        self._users: dict[int, str] = {}
        response = super().changelist_view(request, extra_context)
        cl = (getattr(response, "context_data", None) or {}).get("cl")
        if cl is not None:  # the page's rows, with their old → new (trail.with_changes)
            cl.result_list = trail.with_changes(cl.result_list)
        return response

    @admin.display(description=_("对象"))
    def kind(self, entry: Any) -> str:
        return trail.object_kind(entry.pgh_obj_model)

    @admin.display(description=_("操作人"))
    def who(self, entry: Any) -> str:
        if not entry.user_id:
            return "-"
        if entry.user_id not in self._users:
            user = User.objects.filter(pk=entry.user_id).first()
            self._users[entry.user_id] = f"#{entry.user_id} {user}" if user else f"#{entry.user_id}"
        return self._users[entry.user_id]

    @admin.display(description=_("变更（原值 → 新值）"))
    def changes(self, entry: Any) -> str:
        text = getattr(entry, "changes", "")
        return text if len(text) <= 300 else text[:300] + "…"

    @admin.action(description=_("导出所选审计记录（CSV）"))
    def export_csv(self, request: HttpRequest, queryset: Any) -> HttpResponse:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return trail.export_csv(queryset, f"xinyou-audit-trail-{stamp}.csv")


@admin.register(AccessLog)
class AccessLogAdmin(_SuperuserReadOnly):
    """Who among the staff opened which resident's data."""

    list_display = [
        "at",
        "staff_id",
        "staff_role",
        "staff_city",
        "staff_merchant",
        "resident_id",
        "what",
        "object_ref",
        "ip",
    ]
    list_filter = ["what", "staff_role", ("at", admin.DateFieldListFilter)]
    search_fields = ["=staff__id", "=resident__id", "ip", "object_ref"]
    search_help_text = _("按查看人编号、居民编号、来源地址或对象查找")
    show_full_result_count = False

    @admin.action(description=_("导出所选查看记录（CSV）"))
    def export_csv(self, request: HttpRequest, queryset: Any) -> HttpResponse:
        import csv

        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="xinyou-access-log-{stamp}.csv"'
        response.write("\ufeff")
        writer = csv.writer(response)
        head = [
            "time",
            "staff_id",
            "role",
            "city",
            "merchant",
            "resident_id",
            "what",
            "object",
            "ip",
            "path",
        ]
        writer.writerow(head)
        for a in queryset.order_by("-at", "-id"):
            row = [
                a.at.isoformat(),
                a.staff_id,
                a.staff_role,
                a.staff_city,
                a.staff_merchant,
                a.resident_id,
                a.what,
                a.object_ref,
                a.ip or "",
                a.path,
            ]
            writer.writerow([neutralise(c) for c in row])
        return response


__all__ = ["EVENT_MODELS", "AccessLogAdmin", "TrailEntryAdmin"]
