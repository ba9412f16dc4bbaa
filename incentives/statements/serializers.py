"""Output shapes of the statements API (shape only: the figures come from selectors)."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api import QuerySerializer

from . import files
from .selectors import Figures, Line, MonthSummary, Rollup, StatementData


def money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


class FiguresOutput(serializers.Serializer):
    redemptions = serializers.IntegerField()
    entitlement_uses = serializers.IntegerField()
    conflicts = serializers.IntegerField()
    face_value = serializers.CharField(
        allow_null=True, help_text="Yuan, e.g. `30.00`; null when no offer states a price."
    )


def figures(value: Figures) -> dict[str, Any]:
    return {
        "redemptions": value.redemptions,
        "entitlement_uses": value.entitlement_uses,
        "conflicts": value.conflicts,
        "face_value": money(value.face_value),
    }


class OfferRef(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()


class LineOutput(FiguresOutput):
    offer = OfferRef()


class AdjustmentOutput(LineOutput):
    of_month = serializers.CharField(help_text="The closed month corrected, YYYY-MM.")


def line(value: Line) -> dict[str, Any]:
    out = {
        "offer": {
            "id": value.offer_id,
            "title": files.offer_name(value.offer_id, value.title, value.title_en),
        },
        **figures(value.figures),
    }
    if value.of_month is not None:
        out["of_month"] = f"{value.of_month:%Y-%m}"
    return out


class MonthOutput(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    status = serializers.ChoiceField(choices=["open", "closed"])
    number = serializers.CharField(allow_null=True)
    checksum = serializers.CharField(allow_null=True)
    redemptions = serializers.IntegerField()
    entitlement_uses = serializers.IntegerField()
    conflicts = serializers.IntegerField()
    face_value_total = serializers.CharField(allow_null=True)


def month_summary(value: MonthSummary) -> dict[str, Any]:
    s = value.statement
    return {
        "month": f"{value.month:%Y-%m}",
        "status": "closed" if s else "open",
        "number": s.number if s else None,
        "checksum": s.checksum if s else None,
        "redemptions": value.figures.redemptions,
        "entitlement_uses": value.figures.entitlement_uses,
        "conflicts": value.figures.conflicts,
        "face_value_total": money(value.figures.face_value),
    }


class MerchantRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CityRef(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class StatementOutput(serializers.Serializer):
    merchant = MerchantRef()
    city = CityRef()
    month = serializers.CharField(help_text="YYYY-MM")
    status = serializers.ChoiceField(choices=["open", "closed"])
    number = serializers.CharField(allow_null=True)
    checksum = serializers.CharField(allow_null=True, help_text="SHA-256, hex")
    closed_at = serializers.DateTimeField(allow_null=True)
    lines = LineOutput(many=True)
    adjustments = AdjustmentOutput(many=True)
    totals = FiguresOutput()
    adjustments_total = FiguresOutput()


def statement(data: StatementData) -> dict[str, Any]:
    s = data.statement
    return {
        "merchant": {"id": data.merchant.pk, "name": data.merchant.name},
        "city": {"code": data.merchant.city_id, "name": files.city_name(data.merchant.city)},
        "month": f"{data.month:%Y-%m}",
        "status": "closed" if s else "open",
        "number": s.number if s else None,
        "checksum": s.checksum if s else None,
        "closed_at": serializers.DateTimeField().to_representation(s.closed_at) if s else None,
        "lines": [line(v) for v in data.lines],
        "adjustments": [line(v) for v in data.adjustments],
        "totals": figures(data.totals),
        "adjustments_total": figures(data.adjustments_total),
    }


class RollupRowOutput(MonthOutput):
    merchant = MerchantRef()
    adjustments = FiguresOutput()


class RollupOutput(serializers.Serializer):
    city = CityRef()
    month = serializers.CharField()
    status = serializers.ChoiceField(choices=["open", "closed"])
    statements = RollupRowOutput(many=True)
    totals = FiguresOutput()
    adjustments_total = FiguresOutput()


def rollup(value: Rollup) -> dict[str, Any]:
    place = {"code": value.city.code, "name": files.city_name(value.city)}
    return {
        **({"alliance": place} if files.is_alliance(value) else {"city": place}),
        "month": f"{value.month:%Y-%m}",
        "status": "closed" if value.closed else "open",
        "statements": [
            {
                "merchant": {"id": row.merchant.pk, "name": row.merchant.name},
                **month_summary(MonthSummary(value.month, row.statement, row.figures)),
                "adjustments": figures(row.adjustments),
            }
            for row in value.rows
        ],
        "totals": figures(value.totals),
        "adjustments_total": figures(value.adjustments_total),
    }


class RollupQuery(QuerySerializer):
    month = serializers.RegexField(
        r"^\d{4}-\d{2}$",
        error_messages={"invalid": _("月份格式应为 YYYY-MM。")},
        help_text="The month, YYYY-MM (Asia/Shanghai), from 2020-01 to the current month.",
    )
    merchant = serializers.RegexField(
        r"^\d{1,18}$",
        required=False,
        help_text="One merchant of the scope: its full statement instead of the roll-up "
        "(another merchant is 404).",
    )
    city = serializers.RegexField(
        r"^\d{6}$",
        required=False,
        help_text="Superusers: the city (required without `merchant` or `alliance`). City "
        "staff: their own city only (another is 404). Alliance staff: one member city.",
    )
    alliance = serializers.RegexField(
        r"^[a-z0-9-]{1,20}$",
        required=False,
        help_text="The roll-up of an alliance's member cities: alliance staff their own (the "
        "default without `city`; another is 403), superusers any.",
    )
