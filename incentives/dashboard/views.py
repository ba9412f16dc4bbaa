"""The HTML dashboard and its CSV export (session login; city staff and superusers).

The page is rendered with its figures embedded (`json_script`) and drawn by the vendored
ECharts; changing the dates reloads it with the new query. Both views read the same
selectors as the API, so page, CSV and API always agree.
"""

import csv
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import serializers

from accounts.models import City

from . import selectors
from .api import resolve_scope
from .rollup import local_today
from .selectors import Scope
from .serializers import SeriesQuery

LANGS = dict(settings.LANGUAGES)


class DashboardLoginView(LoginView):
    template_name = "dashboard/login.html"
    next_page = reverse_lazy("dashboard:page")


class DashboardLogoutView(LogoutView):
    next_page = reverse_lazy("dashboard:login")


def _city_staff_page(view: Callable) -> Callable:
    """Session login required; only city staff and superusers; `?lang=` switches the
    language (and remembers it in the language cookie)."""

    @login_required(login_url="dashboard:login")
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not (user.is_superuser or user.role == "city_staff"):
            raise PermissionDenied
        lang = request.GET.get("lang")
        if lang not in LANGS:
            return view(request, *args, **kwargs)
        with translation.override(lang):
            request.LANGUAGE_CODE = lang
            response = view(request, *args, **kwargs)
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, lang, samesite="Lax")
        return response

    return wrapped


def _scope(request: HttpRequest) -> tuple[Scope, str, dict[str, Any]]:
    """Scope and interval of the query; errors (field → messages) fall back to defaults."""
    # an empty field of the form ("all cities", a cleared date) means "the default"
    names = ("date_from", "date_to", "city", "interval")
    params = {k: v for k, v in request.GET.items() if k in names and v}
    parsed = SeriesQuery(data=params, context={"today": local_today()})
    errors: dict[str, Any] = {}
    if not parsed.is_valid():
        errors = parsed.errors
        kept = {"city": params["city"]} if "city" in params and "city" not in errors else {}
        parsed = SeriesQuery(data=kept, context={"today": local_today()})
        parsed.is_valid(raise_exception=True)
    try:
        scope = resolve_scope(request.user, parsed.validated_data)
    except serializers.ValidationError as exc:
        errors = {**errors, **exc.detail}
        data = {**parsed.validated_data}
        data.pop("city", None)
        scope = resolve_scope(request.user, data)
    return scope, parsed.validated_data["interval"], errors


def _labels() -> dict[str, str]:
    """Texts the charts draw, in the active language."""
    return {
        "claims": _("领取"),
        "redemptions": _("核销"),
        "cancelled": _("取消"),
        "expired": _("过期"),
        "revoked": _("撤销"),
        "uses": _("权益使用"),
        "refusals": _("被拒次数"),
        "from_suffix": _("（居民）"),
        "to_suffix": _("（使用地）"),
        "empty": _("所选时间段内没有数据"),
    }


@_city_staff_page
def dashboard_page(request: HttpRequest) -> HttpResponse:
    scope, interval, errors = _scope(request)
    figures = selectors.dashboard(scope=scope, interval=interval)
    query = {"date_from": scope.date_from.isoformat(), "date_to": scope.date_to.isoformat()}
    query["interval"] = interval
    if request.user.is_superuser and scope.city:
        query["city"] = scope.city
    context = {
        "scope": scope,
        "interval": interval,
        "intervals": _intervals(),
        "city": City.objects.filter(code=scope.city).first() if scope.city else None,
        "cities": City.objects.all() if request.user.is_superuser else [],
        "errors": errors,
        "figures": figures,
        "labels": _labels(),
        "query": query,
        "languages": settings.LANGUAGES,
    }
    return render(request, "dashboard/page.html", context)


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def csv_rows(scope: Scope, interval: str, city_name: str) -> list[list[Any]]:
    """The dashboard's figures as CSV rows: sections separated by a blank row."""
    figures = selectors.dashboard(scope=scope, interval=interval)
    summary = figures["summary"]
    counts = [_("领取"), _("核销"), _("取消"), _("过期"), _("撤销"), _("权益使用")]
    rows: list[list[Any]] = [
        [_("信游城市数据看板")],
        [_("城市"), city_name],
        [_("开始日期"), scope.date_from.isoformat()],
        [_("结束日期"), scope.date_to.isoformat()],
        [],
        [_("概览")],
        [_("指标"), _("数值")],
        [_("领取"), summary["claims"]],
        [_("核销"), summary["redemptions"]],
        [_("核销率"), _rate(summary["redemption_rate"])],
        [_("领取居民数"), summary["unique_residents"]],
        [_("进行中的优惠"), summary["active_offers"]],
        [_("合作商户"), summary["merchants"]],
        [_("取消"), summary["cancelled"]],
        [_("过期"), summary["expired"]],
        [_("撤销"), summary["revoked"]],
        [_("权益使用"), summary["entitlement_uses"]],
        [_("被拒次数"), summary["refusals"]],
        [_("失信事件"), summary["incidents"]],
        [],
        [_("趋势（%(interval)s）") % {"interval": dict(_intervals())[interval]}],
        [_("时段"), _("起"), _("止"), *counts],
    ]
    rows += [
        [r["period"].isoformat(), r["start"].isoformat(), r["end"].isoformat(), *_counts(r)]
        for r in figures["series"]
    ]
    titles = {
        "category": _("按类别"),
        "merchant": _("按商户"),
        "offer": _("按优惠"),
        "home_city": _("按居民所在城市"),
        "scenario": _("按场景"),
        "station": _("按站点"),
    }
    for by, title in titles.items():
        rows += [[], [title], [_("编号"), _("名称"), *counts, _("核销率")]]
        rows += [
            [r["key"], r["label"], *_counts(r), _rate(r["redemption_rate"])]
            for r in figures["breakdowns"][by]
        ]
    rows += [[], [_("按拒绝原因")], [_("原因"), _("名称"), _("被拒次数")]]
    rows += [[r["key"], r["label"], r["refusals"]] for r in figures["breakdowns"]["refusal_reason"]]
    rows += [
        [],
        [_("跨城流向")],
        [_("居民所在城市"), _("使用城市"), *counts],
    ]
    rows += [[r["home_city_name"], r["dest_city_name"], *_counts(r)] for r in figures["flows"]]
    return rows


def _intervals() -> list[tuple[str, str]]:
    return [("day", _("按日")), ("week", _("按周")), ("month", _("按月"))]


def _counts(row: dict[str, Any]) -> list[int]:
    return [row[name] for name in selectors.COUNTS]


@_city_staff_page
def export_csv(request: HttpRequest) -> HttpResponse:
    """The figures as CSV: UTF-8 with a BOM so that Excel and WPS read the Chinese text."""
    scope, interval, errors = _scope(request)
    if errors:
        return HttpResponse(
            "\n".join(f"{k}: {' '.join(map(str, v))}" for k, v in errors.items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    city = City.objects.filter(code=scope.city).first() if scope.city else None
    city_name = str(city.name) if city else _("全部城市")
    filename = f"xinyou-dashboard-{scope.city or 'all'}-{scope.date_from}-{scope.date_to}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    csv.writer(response).writerows(csv_rows(scope, interval, city_name))
    return response
