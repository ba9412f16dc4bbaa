"""Why a signal fired, in words a city official understands (the request's language),
from the facts the finder stored. No score is ever among the facts."""

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from .models import RiskSignal


def _when(iso: str) -> str:
    """A stored local time (ISO 8601 with offset) as people write it: 2026-11-18 14:05."""
    return f"{datetime.fromisoformat(iso):%Y-%m-%d %H:%M}"


def _clerk_rate(f: dict[str, Any]) -> str:
    unit = _("一分钟") if f["unit"] == "minute" else _("一小时")
    return _(
        "核销员 %(clerk)s（%(merchant)s）在 %(at)s 起的%(unit)s内核销了 %(count)s 张券；"
        "其过去 30 天里这样的%(unit)s通常不超过 %(usual)s 张，最多 %(top)s 张。"
    ) % {**f, "unit": unit, "at": _when(f["at"])}


def _outside_hours(f: dict[str, Any]) -> str:
    parts = []
    if f["outside_validity"]:
        parts.append(_("%(n)s 张在优惠有效期之外核销") % {"n": f["outside_validity"]})
    if f["outside_hours"]:
        parts.append(_("%(n)s 张在营业时间（%(hours)s）之外核销") % {"n": f["outside_hours"], **f})
    return _("「%(offer)s」（%(merchant)s）当天有 %(what)s（按扫码时间）。") % {
        **f,
        "what": _("，").join(parts),
    }


def _device(f: dict[str, Any]) -> str:
    return (
        _(
            "扫码设备 %(device)s（%(merchant)s）在 %(at)s 起的 10 分钟内核销了 %(residents)s 位"
            "不同居民的券；该商户平时 10 分钟内一台设备最多约 %(usual)s 位。"
        )
        % f
    )


def _merchant_rate(f: dict[str, Any]) -> str:
    what = _("离线核销冲突记录") if f["measure"] == "conflicts" else _("被拒绝的离线核销")
    return _(
        "%(merchant)s 近 %(days)s 天的离线核销中有 %(events)s 条%(what)s（共 %(total)s 条，"
        "占 %(rate)s），本市其他商户为 %(city_rate)s。"
    ) % {
        **f,
        "what": what,
        "rate": f"{f['rate']:.1%}",
        "city_rate": f"{f['city_rate']:.1%}",
    }


def _travel(f: dict[str, Any]) -> str:
    return (
        _(
            "居民 %(resident)s 的券先在%(from_city)s核销，%(minutes)s 分钟后又在%(to_city)s核销；"
            "两地相距约 %(km)s 公里，至少需要约 %(needed_minutes)s 分钟。"
        )
        % f
    )


def _signup(f: dict[str, Any]) -> str:
    source = (
        _("地址 %(source)s") % f
        if f["scope"] == "address"
        else _("网段 %(source)s（%(addresses)s 个地址）") % f
    )
    return _(
        "%(source)s 在 %(at)s 起的 10 分钟内发起了 %(count)s 次请求（验证码 %(sms_codes)s 次，"
        "注册 %(registrations)s 次），超过 %(threshold)s 次的界限。"
    ) % {**f, "source": source, "at": _when(f["at"])}


_WHY = {
    RiskSignal.Kind.CLERK_RATE: _clerk_rate,
    RiskSignal.Kind.OUTSIDE_HOURS: _outside_hours,
    RiskSignal.Kind.DEVICE_MANY_RESIDENTS: _device,
    RiskSignal.Kind.MERCHANT_CONFLICT_RATE: _merchant_rate,
    RiskSignal.Kind.IMPOSSIBLE_TRAVEL: _travel,
    RiskSignal.Kind.SIGNUP_BURST: _signup,
}


def why(signal: RiskSignal) -> str:
    return _WHY[RiskSignal.Kind(signal.kind)](signal.facts)
