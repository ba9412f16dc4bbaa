"""Statements API (docs/api.md "Statements"): merchant staff read their own merchant's,
city staff their city's merchants' and the roll-up. Parse, resolve the scope, read."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBase
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import IsCityStaffOrSuperuser, IsMerchantStaff, error_responses
from core.auth import signed_in_user

from . import downloads, selectors, serializers
from .selectors import StatementScope

FILES_TEXT = (
    " With the suffix `.csv` (UTF-8 with a BOM, formulas neutralised, names not codes) or "
    "`.pdf` the same statement comes as a file, with every row (redemptions, entitlement "
    "uses, offline conflicts; times in Asia/Shanghai, voucher codes masked to their last "
    "four), in the request's language."
)
RULES_TEXT = (
    "A month is an Asia/Shanghai calendar month; a row counts in the month the server "
    "recorded it (an offline redemption: when it was synced). A month closes on the 3rd of "
    "the next month: from then on its statement is frozen, numbered and checksummed "
    "(SHA-256); later corrections of a closed month are `adjustments` of the next statement "
    "to close. `face_value` is the discount the offers state (null where none is stated)."
)

_FILE_RESPONSES = {
    (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY),
    (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
}


def _scope(request: Request) -> StatementScope:
    scope = selectors.statement_scope(signed_in_user(request))
    if scope is None:
        raise PermissionDenied(_("没有查看对账单的权限。"))
    return scope


class _StatementsView(APIView):
    def perform_content_negotiation(self, request, force=False):
        # a `.csv`/`.pdf` route answers its file whatever the Accept header asks for (a
        # client asking for application/pdf is not refused): errors stay JSON
        return super().perform_content_negotiation(
            request, force=force or bool(self.kwargs.get("fmt"))
        )

    def finalize_response(self, request, response, *args, **kwargs):
        add_never_cache_headers(response)  # a merchant's figures are kept by no cache
        return super().finalize_response(request, response, *args, **kwargs)


class MerchantStatementsView(_StatementsView):
    permission_classes = [IsMerchantStaff]

    @extend_schema(
        tags=["statements"],
        summary="My merchant's monthly statements, newest first",
        description=RULES_TEXT + " Every closed month, and the open months since the merchant "
        "joined (at most 24 back).",
        responses={200: serializers.MonthOutput(many=True), **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        merchant = selectors.merchant_in_scope(_scope(request))
        months = selectors.merchant_months(merchant)
        return Response([serializers.month_summary(m) for m in months])


class MerchantStatementView(_StatementsView):
    permission_classes = [IsMerchantStaff]

    @extend_schema(
        tags=["statements"],
        summary="One month's statement of my merchant (`.csv`, `.pdf`: the files)",
        description=RULES_TEXT + FILES_TEXT,
        parameters=[
            OpenApiParameter("month", str, OpenApiParameter.PATH, description="YYYY-MM"),
            OpenApiParameter(
                "fmt", str, OpenApiParameter.PATH, enum=["csv", "pdf"], required=False
            ),
        ],
        responses={
            200: serializers.StatementOutput,
            **_FILE_RESPONSES,
            **error_responses(
                401,
                403,
                404,
                s404="not_found: a malformed month, or one outside 2020-01 up to the current month",
            ),
        },
    )
    def get(self, request: Request, month: str, fmt: str | None = None) -> HttpResponseBase:
        merchant = selectors.merchant_in_scope(_scope(request))
        parsed = selectors.parse_month(month)
        if parsed is None:
            raise Http404
        data = selectors.statement(merchant, parsed)
        if fmt:
            return downloads.statement_file(data, fmt)
        return Response(serializers.statement(data))


class CityStatementsView(_StatementsView):
    permission_classes = [IsCityStaffOrSuperuser]

    @extend_schema(
        tags=["statements"],
        summary="The statements of the city's merchants and the city roll-up",
        description=RULES_TEXT + " Without `merchant`: every merchant of the city with its "
        "figures and the sums (the roll-up); with `merchant=ID`: that merchant's statement, "
        "shaped as `GET /merchant/statements/{month}`." + FILES_TEXT,
        parameters=[
            serializers.RollupQuery,
            OpenApiParameter(
                "fmt", str, OpenApiParameter.PATH, enum=["csv", "pdf"], required=False
            ),
        ],
        responses={
            200: serializers.RollupOutput,
            **_FILE_RESPONSES,
            **error_responses(
                400,
                401,
                403,
                404,
                s400="invalid_request: a malformed or out-of-range month",
                s403="permission_denied: another alliance (alliance staff)",
                s404="not_found: a merchant or city outside the caller's scope",
            ),
        },
    )
    def get(self, request: Request, fmt: str | None = None) -> HttpResponseBase:
        query = serializers.RollupQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        month = selectors.parse_month(data["month"])
        if month is None:
            raise drf.ValidationError({"month": [_("月份应在 2020-01 至本月之间。")]})
        scope = _scope(request)
        if "merchant" in data:
            merchant = selectors.merchant_in_scope(scope, data["merchant"])
            if data.get("city") and data["city"] != merchant.city_id:
                raise Http404
            statement = selectors.statement(merchant, month)
            if fmt:
                return downloads.statement_file(statement, fmt)
            return Response(serializers.statement(statement))
        if data.get("city") is None and (data.get("alliance") or scope.alliance):
            alliance = selectors.alliance_in_scope(scope, data.get("alliance"))
            rollup = selectors.alliance_rollup(alliance, month)
        else:
            rollup = selectors.city_rollup(selectors.city_in_scope(scope, data.get("city")), month)
        if fmt:
            return downloads.rollup_file(rollup, fmt)
        return Response(serializers.rollup(rollup))
