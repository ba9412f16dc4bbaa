"""The words of each notice kind, in the reader's language.

A notice stores only what its text needs (`params`): names of things (an offer, a
merchant, a scenario), each either one string or a {language: string} map, codes (a
tier, an outcome) and times. Never a score, an ID number, a phone or a person's name: the
callers pass none, and tests/notices/test_texts.py scans every kind's text for them.
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from accounts.credit.models import Tier

from .models import NoticeKind

DEFAULT_LANGUAGE = "zh-hans"


def language_of(code: str | None) -> str:
    """One of settings.LANGUAGES: `en`, `en-us` → `en`; anything else → Chinese."""
    code = (code or "").lower()
    for known, _name in settings.LANGUAGES:
        if code == known or code.split("-")[0] == known.split("-")[0]:
            return known
    return DEFAULT_LANGUAGE


def in_languages(value: str | Promise) -> dict[str, str]:
    """A translatable label as {language: text} for every language of the service (for
    `params`: the notice is read later, in whichever language the reader uses)."""
    out = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            out[code] = str(value)
    return out


class _Params(dict):
    """A missing parameter reads as empty (an old notice of a kind whose text grew)."""

    def __missing__(self, key: str) -> str:
        return ""


def _pick(value: Any, language: str) -> str:
    if isinstance(value, dict):
        return str(value.get(language) or value.get(DEFAULT_LANGUAGE) or "")
    return "" if value is None else str(value)


def _when(value: Any, language: str) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return ""
    local = timezone.localtime(moment)  # the service's zone: Asia/Shanghai
    if language == "en":
        return f"{local.day} {local:%b} {local:%H:%M}"
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _tier(code: Any) -> str:
    return str(Tier(code).label) if code in Tier.values else ""


def render(kind: str, params: dict[str, Any], language: str) -> tuple[str, str]:
    """(title, body) of a notice of `kind` in `language`."""
    language = language_of(language)
    with translation.override(language):
        p = _Params({key: _pick(value, language) for key, value in params.items()})
        for key in ("expires_at", "until"):
            if key in params:
                p[key] = _when(params[key], language)
        if kind == NoticeKind.VOUCHER_EXPIRING:
            return _("优惠券即将过期"), _(
                "您领取的“%(offer)s”将于 %(expires_at)s 过期，请尽快使用。"
            ) % p
        if kind == NoticeKind.INCIDENT_REPORTED:
            return _("有商户上报了失信事件"), _(
                "%(merchant)s 上报了一起“%(incident)s”事件，城市工作人员将进行审核。"
                "您可以在信用码页面查看详情或提出异议。"
            ) % p
        if kind == NoticeKind.INCIDENT_DECIDED:
            if params.get("outcome") == "dismissed":
                return _("失信事件未被确认"), _(
                    "%(merchant)s 上报的“%(incident)s”事件经审核未被确认，不影响您使用优惠。"
                ) % p
            return _("失信事件已确认"), _(
                "%(merchant)s 上报的“%(incident)s”事件经审核已确认，"
                "您领取和使用“%(scenario)s”类优惠的资格暂停至 %(until)s。"
                "如有异议，可在信用码页面提出。"
            ) % p
        if kind == NoticeKind.OBJECTION_DECIDED:
            if params.get("outcome") == "overturned":
                return _("您的异议成立"), _(
                    "您对“%(incident)s”事件提出的异议经审核成立，事件已撤销，相关暂停已解除。"
                ) % p
            return _("您的异议未被采纳"), _(
                "您对“%(incident)s”事件提出的异议经审核未被采纳，"
                "“%(scenario)s”类优惠的暂停至 %(until)s 结束。"
            ) % p
        if kind == NoticeKind.SUSPENSION_ENDED:
            return _("暂停期已结束"), _(
                "您在“%(scenario)s”类优惠中的暂停期已结束，可以重新领取和使用。"
            ) % p
        if kind == NoticeKind.TIER_CHANGED:
            return _("信用等级有变化"), _(
                "根据您所在城市信用平台的最新结果，您的信用等级由“%(old)s”变为“%(new)s”。"
            ) % {"old": _tier(params.get("old")), "new": _tier(params.get("new"))}
        if kind == NoticeKind.ACCOUNT_CLOSED:
            return _("账号已注销"), _(
                "您的信游账号已注销，个人信息已删除。如非本人操作，请联系客服。"
            )
    raise ValueError(kind)


def sms_text(kind: str, params: dict[str, Any], language: str) -> str:
    """The SMS of a notice: the sign, the title and the body, within 300 characters."""
    title, body = render(kind, params, language)
    with translation.override(language_of(language)):
        sign = _("【信游】")
    return f"{sign}{title}: {body}"[:300] if sign.isascii() else f"{sign}{title}：{body}"[:300]
