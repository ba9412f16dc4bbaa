"""Dashboard API of city staff (docs/api.md "City staff"): parse, resolve the scope, read."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.models import Alliance, City, User
from core import roles
from core.api import IsCityStaffOrSuperuser, error_responses
from core.auth import signed_in_user
from core.replica import ReplicaReadsMixin

from . import selectors
from .rollup import local_today
from .selectors import Scope
from .serializers import (
    BreakdownQuery,
    BreakdownRowOutput,
    FlowRowOutput,
    RangeQuery,
    SeriesQuery,
    SeriesRowOutput,
    SummaryOutput,
)

SCOPE_TEXT = (
    "Dates are Asia/Shanghai calendar days. Figures come from daily roll-ups kept current "
    "by a Celery task every few minutes (the current day may lag by that much; `as_of` of "
    "the summary says when they were last refreshed). A claim "
    "counts on the day its voucher was issued, whatever became of the voucher later "
    "(cancelled vouchers stay claims; `cancelled` counts them on the day they were "
    "cancelled); a redemption on the day it was redeemed; an expiry or revocation on the "
    "day the voucher closed. City staff see their own city: offers located there, and in "
    "`flows` also the residents whose home city it is. Alliance staff see their alliance "
    "(`alliance=CODE`, the default for them): the member cities together, `flows` only "
    "between two members, `city=` one member (a city outside the alliance is 404). "
    "Superusers see all cities, one with `city=`, or any alliance with `alliance=`. "
    "Residents and merchant staff get 403."
)


def resolve_scope(user: User, data: dict[str, Any]) -> Scope:
    """Whose figures the caller may see, from their role, `alliance=` and `city=`: city
    staff their city (another is 403); alliance staff their alliance (the default; another
    is 403) or one of its members (another city is 404); superusers any city or alliance
    (an unknown one is 400), or all cities."""
    city, alliance = data.get("city"), data.get("alliance")
    dates = {"date_from": data["date_from"], "date_to": data["date_to"]}
    if alliance is None and roles.is_alliance_staff(user):
        alliance = user.staff_alliance_id
    if alliance is not None:
        if user.is_superuser:
            members = Alliance.member_codes(alliance)
            if members is None:
                raise serializers.ValidationError({"alliance": [_("不是城市联盟。")]})
        elif roles.is_alliance_staff(user) and alliance == user.staff_alliance_id:
            members = roles.dashboard_cities(user)
            assert members is not None  # None is for superusers only
        else:
            raise PermissionDenied(_("只能查看本联盟的数据。"))
        if city is not None and city not in members:
            raise Http404(_("该城市不是本联盟的成员。"))
        return Scope(city=city, **dates, cities=frozenset(members), alliance=alliance)
    if user.is_superuser:
        if city is not None and not City.objects.filter(code=city).exists():
            raise serializers.ValidationError({"city": [_("不是合作城市。")]})
    elif city is not None and city != user.staff_city_id:
        raise PermissionDenied(_("只能查看本市的数据。"))
    else:
        city = user.staff_city_id
    return Scope(city=city, **dates)


def parse(request: Request, query: type[RangeQuery]) -> tuple[Scope, dict[str, Any]]:
    """Validated query and the caller's scope (400 invalid_request, 403)."""
    parsed = query(data=request.query_params, context={"today": local_today()})
    parsed.is_valid(raise_exception=True)
    return resolve_scope(signed_in_user(request), parsed.validated_data), parsed.validated_data


_ERRORS = error_responses(
    400,
    401,
    403,
    404,
    s400="invalid_request: a malformed date, date_from after date_to, a range over 3 "
    "years, an unknown `interval`/`by`, or (superusers) an unknown `city` or `alliance`",
    s403="permission_denied: residents and merchant staff; city staff naming another city "
    "or any alliance; alliance staff naming another alliance",
    s404="not_found: alliance staff (or a superuser with `alliance=`) naming a city that "
    "is not a member of the alliance",
)


class _DashboardView(ReplicaReadsMixin, APIView):
    permission_classes = [IsCityStaffOrSuperuser]
    # A bearer token, or the session of the HTML dashboard (the page reads these itself;
    # DRF's SessionAuthentication enforces CSRF on any unsafe method).
    authentication_classes = [JWTAuthentication, SessionAuthentication]

    def finalize_response(self, request, response, *args, **kwargs):
        # a city's figures are kept by no browser or proxy (Cache-Control: no-store)
        add_never_cache_headers(response)
        return super().finalize_response(request, response, *args, **kwargs)


class SummaryView(_DashboardView):
    @extend_schema(
        tags=["dashboard"],
        summary="Uptake totals of a date range",
        description=SCOPE_TEXT
        + " `claims` = vouchers issued; `redemption_rate` = redemptions / claims of the "
        "same range (null without claims); `unique_residents` = distinct residents who "
        "claimed in the range; `active_offers` and `merchants` are live counts.",
        parameters=[RangeQuery],
        responses={200: SummaryOutput, **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope, _data = parse(request, RangeQuery)
        return Response(SummaryOutput(selectors.summary(scope=scope)).data)


class SeriesView(_DashboardView):
    @extend_schema(
        tags=["dashboard"],
        summary="Claims and redemptions per day, week or month",
        description=SCOPE_TEXT
        + " Every period of the range is listed, zeros included; the first and last "
        "periods count only their days inside the range (`start`..`end`).",
        parameters=[SeriesQuery],
        responses={200: SeriesRowOutput(many=True), **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope, data = parse(request, SeriesQuery)
        rows = selectors.series(scope=scope, interval=data["interval"])
        return Response(SeriesRowOutput(rows, many=True).data)


class BreakdownView(_DashboardView):
    @extend_schema(
        tags=["dashboard"],
        summary="Uptake per category, merchant, offer or residents' home city",
        description=SCOPE_TEXT
        + " Rows cover the offers located in the city; `by=home_city` groups them by the "
        "residents' home city (where the city's visitors come from, the city's own "
        "residents included). Most claimed first; every row with a non-zero count.",
        parameters=[BreakdownQuery],
        responses={200: BreakdownRowOutput(many=True), **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope, data = parse(request, BreakdownQuery)
        rows = selectors.breakdown(scope=scope, by=data["by"])
        return Response(BreakdownRowOutput(rows, many=True).data)


class FlowsView(_DashboardView):
    @extend_schema(
        tags=["dashboard"],
        summary="Cross-city flows: residents' home city → city of the offers",
        description=SCOPE_TEXT
        + " For a city, every pair that involves it on either side: visitors from other "
        "cities using its offers (dest_city = city), its residents using offers elsewhere "
        "(home_city = city), and its residents at home (both). Largest first.",
        parameters=[RangeQuery],
        responses={200: FlowRowOutput(many=True), **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope, _data = parse(request, RangeQuery)
        return Response(FlowRowOutput(selectors.flows(scope=scope), many=True).data)
