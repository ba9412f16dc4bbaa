"""Admin of statements: merchant staff see and download their merchant's, city staff their
city's merchants' and the city roll-up, superusers all. Read-only (a closed statement
never changes); the files come from the same code as the API's (downloads)."""

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponseBase
from django.urls import re_path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OutOfScopeIsNotFound
from core.auth import signed_in_user

from . import downloads, selectors
from .models import Statement
from .rows import add_months

_FORMATS = r"(?P<fmt>csv|pdf)"
_FIELDS: tuple[str, ...] = (
    "number",
    "merchant",
    "city",
    "month",
    "closed_at",
    "redemptions",
    "entitlement_uses",
    "conflicts",
    "face_value_total",
    "checksum",
    "files",
)


@admin.register(Statement)
class StatementAdmin(OutOfScopeIsNotFound, admin.ModelAdmin):
    list_display = [
        "number",
        "merchant",
        "month_text",
        "redemptions",
        "entitlement_uses",
        "conflicts",
        "face_value_total",
        "closed_at",
        "files",
    ]
    list_select_related = ["merchant", "city"]
    search_fields = ["number", "merchant__name"]
    ordering = ["-month", "city", "seq"]
    change_list_template = "admin/incentives/statement/change_list.html"
    fields = _FIELDS
    readonly_fields = _FIELDS

    def _scope(self, request: HttpRequest) -> selectors.StatementScope | None:
        return selectors.statement_scope(signed_in_user(request))

    def get_queryset(self, request: HttpRequest):
        scope = self._scope(request)
        qs = super().get_queryset(request)
        if scope is None:
            return qs.none()
        return qs.filter(merchant__in=scope.merchants())

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and self._scope(request) is not None

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("月份"), ordering="month")
    def month_text(self, statement: Statement) -> str:
        return f"{statement.month:%Y-%m}"

    @admin.display(description=_("下载"))
    def files(self, statement: Statement) -> str:
        return _links(
            "admin:incentives_statement_download",
            {"merchant_id": statement.merchant_id, "month": f"{statement.month:%Y-%m}"},
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            re_path(
                rf"^download/(?P<merchant_id>\d{{1,18}})/(?P<month>\d{{4}}-\d{{2}})\.{_FORMATS}$",
                view(self.download),
                name="incentives_statement_download",
            ),
            re_path(
                rf"^rollup/(?P<city>\d{{6}})/(?P<month>\d{{4}}-\d{{2}})\.{_FORMATS}$",
                view(self.rollup),
                name="incentives_statement_rollup",
            ),
            *super().get_urls(),
        ]

    def _scope_or_404(self, request: HttpRequest) -> selectors.StatementScope:
        scope = self._scope(request)
        if scope is None:
            raise Http404
        return scope

    def download(
        self, request: HttpRequest, merchant_id: str, month: str, fmt: str
    ) -> HttpResponseBase:
        """A merchant's statement of a month (open or closed) as CSV or PDF; 404 outside
        the user's scope."""
        merchant = selectors.merchant_in_scope(self._scope_or_404(request), merchant_id)
        parsed = selectors.parse_month(month)
        if parsed is None:
            raise Http404
        return downloads.statement_file(selectors.statement(merchant, parsed), fmt)

    def rollup(self, request: HttpRequest, city: str, month: str, fmt: str) -> HttpResponseBase:
        """A city's roll-up of a month; 404 outside the user's scope."""
        found = selectors.city_in_scope(self._scope_or_404(request), city)
        parsed = selectors.parse_month(month)
        if parsed is None:
            raise Http404
        return downloads.rollup_file(selectors.city_rollup(found, parsed), fmt)

    def changelist_view(self, request, extra_context=None):
        """The closed statements, and above them the files of the recent months that are
        still open (merchant staff) or of the city roll-ups (city staff)."""
        scope = self._scope(request)
        recent = []
        if scope is not None:
            month = selectors.current_month()
            months = [add_months(month, -n) for n in range(3)]
            if scope.merchant_id is not None:
                recent = [
                    (
                        _("%(month)s 对账单") % {"month": f"{m:%Y-%m}"},
                        _links(
                            "admin:incentives_statement_download",
                            {"merchant_id": scope.merchant_id, "month": f"{m:%Y-%m}"},
                        ),
                    )
                    for m in months
                ]
            elif scope.cities:
                recent = [
                    (
                        _("%(month)s 城市汇总") % {"month": f"{m:%Y-%m}"},
                        _links(
                            "admin:incentives_statement_rollup",
                            {"city": city, "month": f"{m:%Y-%m}"},
                        ),
                    )
                    for city in scope.cities
                    for m in months
                ]
        return super().changelist_view(
            request, extra_context={**(extra_context or {}), "recent_files": recent}
        )


def _links(name: str, kwargs: dict) -> str:
    return format_html(
        '<a href="{}">CSV</a> · <a href="{}">PDF</a>',
        reverse(name, kwargs={**kwargs, "fmt": "csv"}),
        reverse(name, kwargs={**kwargs, "fmt": "pdf"}),
    )
