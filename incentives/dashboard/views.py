"""The HTML dashboard and its CSV export (session login; city staff, alliance staff and
superusers).

The page is rendered with its figures embedded (`json_script`) and drawn by the vendored
ECharts; changing the dates reloads it with the new query. Both views read the same
selectors as the API, so page, CSV and API always agree.
"""

import csv
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from rest_framework import serializers

from accounts.models import Alliance, City
from accounts.security.auth import DashboardLoginForm
from core import roles
from core.auth import signed_in_user
from core.replica import on_replica

from ..risk import selectors as risk_selectors
from . import selectors
from .api import resolve_scope
from .rollup import local_today
from .selectors import Scope
from .serializers import SeriesQuery

LANGS = dict(settings.LANGUAGES)
# The switch names each language in itself: 中文 / English, whatever the page's language.
LANGUAGE_LABELS = {"zh-hans": "中文", "en": "English"}
# The query's fields as people call them (a message never shows `date_from`).
FIELD_LABELS = {
    "date_from": gettext_lazy("开始日期"),
    "date_to": gettext_lazy("结束日期"),
    "city": gettext_lazy("城市"),
    "alliance": gettext_lazy("城市联盟"),
    "interval": gettext_lazy("时间粒度"),
}


def _with_language(view: Callable) -> Callable:
    """`?lang=` switches the language of this response and remembers it in the language
    cookie (the next pages follow it through LocaleMiddleware)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        lang = request.GET.get("lang")
        if lang not in LANGS:
            return view(request, *args, **kwargs)
        with translation.override(lang):
            request.LANGUAGE_CODE = lang
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()  # a TemplateResponse renders in this language
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            lang,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            secure=settings.LANGUAGE_COOKIE_SECURE,  # True in production
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
        )
        return response

    return wrapped


def _languages(request: HttpRequest, query: dict[str, str] | None = None) -> list[dict]:
    """The language switch: each language in its own name, linking to this page in it."""
    current = translation.get_language()
    return [
        {
            "code": code,
            "label": LANGUAGE_LABELS.get(code, str(name)),
            "current": code == current,
            "href": "?" + urlencode({**(query or {}), "lang": code}),
        }
        for code, name in settings.LANGUAGES
    ]


class DashboardLoginView(LoginView):
    """City staff and superusers only, with the per-account lockout (accounts.security)."""

    template_name = "dashboard/login.html"
    authentication_form = DashboardLoginForm
    # Django resolves a lazy URL here (resolve_url); the stubs want a plain str.
    next_page = reverse_lazy("dashboard:page")  # type: ignore[assignment]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        keep = {"next": self.request.GET["next"]} if self.request.GET.get("next") else {}
        context["languages"] = _languages(self.request, keep)
        return context


dashboard_login = _with_language(DashboardLoginView.as_view())


class DashboardLogoutView(LogoutView):
    next_page = reverse_lazy("dashboard:login")  # type: ignore[assignment]  # as above


def _city_staff_page(view: Callable) -> Callable:
    """Session login required; only city staff and superusers (anyone else gets a
    translated 403 page with a way out); never stored by a browser or proxy
    (Cache-Control: no-store); `?lang=` switches the language."""

    @login_required(login_url="dashboard:login")
    @_with_language
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not roles.sees_city_dashboards(user):
            context = {"languages": _languages(request), "user": user, "back": _back(request)}
            response = render(request, "dashboard/forbidden.html", context, status=403)
        else:
            response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    return wrapped


def _back(request: HttpRequest) -> str:
    """Where "back" leads from the 403 page: the page the user came from on this site, else
    the place for their role (the resident app, the scanner, the admin)."""
    referer = request.META.get("HTTP_REFERER", "")
    ours = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if referer and ours and not urlsplit(referer).path.startswith(reverse("dashboard:page")):
        return referer
    if roles.is_resident(signed_in_user(request)):
        return reverse("web:resident")
    if roles.has_merchant_staff_role(signed_in_user(request)):
        return reverse("web:scanner")
    return reverse("admin:index")


def city_label(city: City | None) -> str:
    """A city's name in the active language (the English one where there is one)."""
    if city is None:
        return _("全部城市")
    english = translation.get_language() == "en"
    return str(city.name_en) if english and city.name_en else str(city.name)


def alliance_label(alliance: Alliance) -> str:
    """An alliance's name in the active language (the English one where there is one)."""
    english = translation.get_language() == "en"
    return str(alliance.name_en) if english and alliance.name_en else str(alliance.name)


def scope_label(scope: Scope) -> str:
    """Whose figures these are, in words: a city, an alliance, a member city of an
    alliance ("十城市联盟 · 杭州"), or all cities (at most two queries)."""
    city = City.objects.filter(code=scope.city).first() if scope.city else None
    if scope.alliance is None:
        return city_label(city)
    alliance = Alliance.objects.filter(pk=scope.alliance).first()
    name = alliance_label(alliance) if alliance is not None else scope.alliance
    return f"{name} · {city_label(city)}" if city is not None else name


def error_lines(errors: dict[str, Any]) -> list[dict[str, str]]:
    """The query's errors as sentences: the field as people call it, then the message
    (never the field's name in the URL, `date_from`)."""
    lines = []
    for field, messages in errors.items():
        text = " ".join(map(str, messages if isinstance(messages, list) else [messages]))
        label = FIELD_LABELS.get(field)
        if label and str(label) not in text:  # "开始日期不能晚于结束日期" names it already
            text = _("%(field)s：%(message)s") % {"field": label, "message": text}
        lines.append({"field": field, "text": text})
    return lines


def _scope(request: HttpRequest) -> tuple[Scope, str, dict[str, Any]]:
    """Scope and interval of the query; errors (field → messages) fall back to defaults."""
    # an empty field of the form ("all cities", a cleared date) means "the default"
    names = ("date_from", "date_to", "city", "alliance", "interval")
    params = {k: v for k, v in request.GET.items() if k in names and v}
    parsed = SeriesQuery(data=params, context={"today": local_today()})
    errors: dict[str, Any] = {}
    if not parsed.is_valid():
        errors = parsed.errors
        kept = {k: params[k] for k in ("city", "alliance") if k in params and k not in errors}
        parsed = SeriesQuery(data=kept, context={"today": local_today()})
        parsed.is_valid(raise_exception=True)
    user = signed_in_user(request)
    try:
        scope = resolve_scope(user, parsed.validated_data)
    except Http404:
        if not user.is_superuser:
            raise  # alliance staff naming a city outside their alliance: not found
        # a superuser who picked another alliance with a city of the one before: its figures
        errors = {**errors, "city": [_("该城市不是所选联盟的成员。")]}
        data = {**parsed.validated_data}
        data.pop("city", None)
        scope = resolve_scope(user, data)
    except serializers.ValidationError as exc:
        assert isinstance(exc.detail, dict)  # resolve_scope names the field it refuses
        errors = {**errors, **exc.detail}
        data = {**parsed.validated_data}
        for refused in exc.detail:
            data.pop(refused, None)
        if "alliance" in exc.detail:
            data.pop("city", None)
        scope = resolve_scope(signed_in_user(request), data)
    return scope, parsed.validated_data["interval"], errors


def _count_names() -> list[str]:
    """The six counts as column and legend names (取消 here is "cancelled", not the
    button "Cancel": pgettext)."""
    return [
        _("领取"),
        _("核销"),
        pgettext("voucher count", "取消"),
        pgettext("voucher count", "过期"),
        pgettext("voucher count", "撤销"),
        _("权益使用"),
    ]


def _labels() -> dict[str, str]:
    """Texts the charts draw, in the active language."""
    claims, redemptions, cancelled, expired, revoked, _uses = _count_names()
    return {
        "claims": claims,
        "redemptions": redemptions,
        "cancelled": cancelled,
        "expired": expired,
        "revoked": revoked,
        "uses": _("权益使用"),
        "refusals": _("被拒次数"),
        "from_suffix": _("（居民）"),
        "to_suffix": _("（使用地）"),
        "empty": _("所选时间段内没有数据"),
    }


@_city_staff_page
@on_replica
def dashboard_page(request: HttpRequest) -> HttpResponse:
    scope, interval, errors = _scope(request)
    figures = selectors.dashboard(scope=scope, interval=interval)
    query = {"date_from": scope.date_from.isoformat(), "date_to": scope.date_to.isoformat()}
    query["interval"] = interval
    user = signed_in_user(request)
    if scope.alliance is not None and (user.is_superuser or scope.city):
        query["alliance"] = scope.alliance
    if (user.is_superuser or scope.alliance is not None) and scope.city:
        query["city"] = scope.city
    city = City.objects.filter(code=scope.city).first() if scope.city else None
    # the city selector: every city (superusers), or the members of the alliance shown
    cities = City.objects.all() if user.is_superuser and scope.alliance is None else []
    if scope.cities is not None:
        cities = City.objects.filter(code__in=scope.cities)
    alliances = Alliance.objects.all() if user.is_superuser else []
    context = {
        "scope": scope,
        "interval": interval,
        "intervals": _intervals(),
        "city": city,
        "city_label": scope_label(scope),
        "cities": [(c.code, city_label(c)) for c in cities],
        "alliances": [(a.code, alliance_label(a)) for a in alliances],
        "all_cities_label": _("全部成员城市") if scope.alliance else _("全部城市"),
        "errors": error_lines(errors),
        "invalid": set(errors),
        "figures": figures,
        "labels": _labels(),
        "query": query,
        "export_query": urlencode({**query, "lang": translation.get_language()}),
        "languages": _languages(request, query),
        # risk signals nobody has looked at yet (incentives/risk), linked to their admin list
        "risk_new": risk_selectors.new_count(signed_in_user(request)),
        "refresh_seconds": refresh_seconds(),
        "refresh_minutes": max(1, round(refresh_seconds() / 60)),
    }
    return render(request, "dashboard/page.html", context)


def refresh_seconds() -> int:
    """How often the page fetches its figures again: the roll-ups' pace (the beat entry
    `dashboard-refresh-rollups`, DASHBOARD_REFRESH_SECONDS), unless the setting
    DASHBOARD_PAGE_REFRESH_SECONDS says otherwise; at least 5 seconds."""
    seconds = getattr(settings, "DASHBOARD_PAGE_REFRESH_SECONDS", None)
    if seconds is None:
        entry = getattr(settings, "CELERY_BEAT_SCHEDULE", {}).get("dashboard-refresh-rollups")
        seconds = entry["schedule"] if entry else 60
    return max(5, int(float(seconds)))


def _as_of_text(as_of: datetime | None) -> str:
    """The time of the figures in the service's time zone, or a dash before any refresh."""
    return "—" if as_of is None else f"{timezone.localtime(as_of):%Y-%m-%d %H:%M:%S}"


def _rate(value: float | None) -> str:
    """As the page shows it: a whole percentage (0.1346 → 13%)."""
    return "" if value is None else f"{value * 100:.0f}%"


def csv_rows(scope: Scope, interval: str, city_name: str) -> list[list[Any]]:
    """The dashboard's figures as CSV rows: sections separated by a blank row."""
    figures = selectors.dashboard(scope=scope, interval=interval)
    summary = figures["summary"]
    counts = _count_names()
    rows: list[list[Any]] = [
        [_("信游城市数据看板")],
        [_("城市"), city_name],
        *([[_("成员城市"), " ".join(sorted(scope.cities))]] if scope.cities is not None else []),
        [_("开始日期"), scope.date_from.isoformat()],
        [_("结束日期"), scope.date_to.isoformat()],
        [_("数据截至"), _as_of_text(summary["as_of"])],
        [],
        [_("概览")],
        [_("指标"), _("数值")],
        [_("领取"), summary["claims"]],
        [_("核销"), summary["redemptions"]],
        [_("核销率"), _rate(summary["redemption_rate"])],
        [_("领取居民数"), summary["unique_residents"]],
        [_("进行中的优惠"), summary["active_offers"]],
        [_("已暂停的优惠"), summary["paused_offers"]],
        [_("因商户信用暂停的优惠"), summary["credit_paused_offers"]],
        [_("合作商户"), summary["merchants"]],
        [counts[2], summary["cancelled"]],
        [counts[3], summary["expired"]],
        [counts[4], summary["revoked"]],
        [counts[5], summary["entitlement_uses"]],
        [_("被拒次数"), summary["refusals"]],
        [_("失信事件"), summary["incidents"]],
        [_("离线核销冲突"), summary["offline_conflicts"]],
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
    # Names, as on the page; the number too where people look things up by it (a merchant's
    # or an offer's id, a city's division code), never a code of ours ("scenic").
    coded = {"category", "scenario"}
    for by, title in titles.items():
        head = [_("名称")] if by in coded else [_("编号"), _("名称")]
        rows += [[], [title], [*head, *counts, _("核销率")]]
        rows += [
            [
                *([] if by in coded else [r["key"]]),
                r["label"],
                *_counts(r),
                _rate(r["redemption_rate"]),
            ]
            for r in figures["breakdowns"][by]
        ]
    rows += [[], [_("按拒绝原因")], [_("原因"), _("被拒次数")]]
    rows += [[r["label"], r["refusals"]] for r in figures["breakdowns"]["refusal_reason"]]
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


# A spreadsheet runs a cell that starts with one of these as a formula (a merchant named
# =HYPERLINK(...) would be a live link in city staff's Excel): such text gets a leading
# apostrophe, which spreadsheets show as text (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: Any) -> Any:
    """The cell as text a spreadsheet will not run; numbers are left as they are."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


@_city_staff_page
@on_replica
def export_csv(request: HttpRequest) -> HttpResponse:
    """The figures as CSV: UTF-8 with a BOM so that Excel and WPS read the Chinese text."""
    scope, interval, errors = _scope(request)
    if errors:
        return HttpResponse(
            "\n".join(line["text"] for line in error_lines(errors)),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    city_name = scope_label(scope)
    who = "-".join(filter(None, (scope.alliance, scope.city))) or "all"
    filename = f"xinyou-dashboard-{who}-{scope.date_from}-{scope.date_to}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    rows = csv_rows(scope, interval, city_name)
    csv.writer(response).writerows([[neutralise(cell) for cell in row] for row in rows])
    return response
