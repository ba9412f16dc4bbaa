"""API pieces every app shares: pagination, the error envelope's schema, role permissions."""

from typing import Any

from django.core.paginator import Page
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import Count, Window
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination

from . import roles
from .parsers import query_value_error


def query_kind(field: serializers.Field) -> str:
    """How strictly a query field's raw value is read (core.parsers.query_value_error)."""
    if isinstance(field, serializers.DateField):
        return "date"
    if isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField):
        return "integer"
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        return "number"
    return "code"


class QuerySerializer(serializers.Serializer):
    """For query strings: a parameter given empty or twice is a mistake to report, not a
    parameter to drop (DRF's form handling would ignore `?date_to=`). Dates are exactly
    `YYYY-MM-DD` and digits only ASCII 0-9, in every parameter but free text
    (`free_text_fields`)."""

    free_text_fields: tuple[str, ...] = ("q",)

    def to_internal_value(self, data):
        errors = {}
        getlist = getattr(data, "getlist", None)
        for name, field in self.fields.items():
            if name not in data:
                continue
            values = getlist(name) if getlist else [data[name]]
            if len(values) != 1 or values[0] == "":
                errors[name] = [_("请只给出一个非空值。")]
            elif name not in self.free_text_fields:
                problem = query_value_error(query_kind(field), str(values[0]))
                if problem:
                    errors[name] = [problem]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


MAX_PAGE = 1_000_000


class Pagination(PageNumberPagination):
    """`?page=N&page_size=M` (M at most 100). Malformed values are refused, not ignored."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    # Far beyond any list, and its offset still fits a bigint: larger is a bad request.
    max_page = MAX_PAGE

    def _check_params(self, request) -> None:
        errors = {}
        # No list has a million pages; a larger number is out of range (400), and would
        # overflow the database's OFFSET (a 500) if it reached the query.
        for name, low, high in (("page", 1, MAX_PAGE), ("page_size", 1, self.max_page_size)):
            raw = request.query_params.getlist(name)
            if not raw:
                continue
            if (
                len(raw) > 1
                or not (raw[0].isascii() and raw[0].isdigit())
                or int(raw[0]) < low
                or (high is not None and int(raw[0]) > high)
            ):
                bound = f"{low}..{high}" if high else f">= {low}"
                errors[name] = [f"integer {bound}"]
        if errors:
            raise serializers.ValidationError(errors)

    def paginate_queryset(self, queryset, request, view=None):
        self._check_params(request)
        return super().paginate_queryset(queryset, request, view)

    def paginate_rows(self, queryset, request, fields: tuple[str, ...]) -> list[tuple]:
        """One page of `fields` rows and the total in a single query (COUNT(*) OVER ()),
        for lists whose every row costs work to filter and rank: no second pass to count."""
        self._check_params(request)
        size = self.get_page_size(request)
        assert size is not None  # `page_size` is set above: there is always a size
        number = int(request.query_params.get(self.page_query_param, 1))
        offset = (number - 1) * size
        rows = list(
            queryset.annotate(_total=Window(Count("*"))).values_list(*fields, "_total")[
                offset : offset + size
            ]
        )
        total = rows[0][-1] if rows else (queryset.count() if number > 1 else 0)
        if number > 1 and offset >= total:
            raise NotFound()
        paginator: DjangoPaginator[tuple] = DjangoPaginator([], size)
        paginator.count = total  # a cached property: the total is known already
        page_rows = [row[:-1] for row in rows]
        self.page = Page(page_rows, number, paginator)
        self.request = request
        return page_rows

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == "page":
                param["schema"].update(minimum=1, maximum=self.max_page)
            if param["name"] == "page_size":
                param["schema"].update(minimum=1, maximum=self.max_page_size)
        return params


class _ErrorBody(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code; switch on this.")
    message = serializers.CharField(help_text="Human-readable, in the request's language.")
    detail = serializers.DictField(help_text="Per-field messages or extra facts.")


ErrorEnvelope = inline_serializer("ErrorEnvelope", {"error": _ErrorBody()})

_DEFAULT_ERROR_TEXT = {
    400: "invalid_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    503: "provider_unavailable",
}


def error_responses(*statuses: int, **described: str) -> dict[int, Any]:
    """OpenAPI responses for the given error statuses, all with the envelope shape.

    `described` maps "s409" style keys to a description listing the codes for that status.
    """
    out: dict[int, Any] = {}
    for status in (*statuses, 500):
        text = described.get(f"s{status}") or _DEFAULT_ERROR_TEXT.get(status, "server_error")
        out[status] = OpenApiResponse(ErrorEnvelope, description=text)
    return out


class IsResident(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return roles.is_resident(request.user)


class IsCityStaffOrSuperuser(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return roles.sees_city_dashboards(request.user)


class IsMerchantStaff(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return roles.has_merchant_staff_role(request.user)
