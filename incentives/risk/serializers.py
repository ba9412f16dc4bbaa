"""Shapes of the risk-signal API (docs/api.md "Risk signals")."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..dashboard.serializers import RangeQuery
from . import explain
from .models import RiskSignal


class SignalQuery(RangeQuery):
    """`state`, and the days (`date_from`, `date_to`) the signals were found on."""

    state = serializers.ChoiceField(choices=RiskSignal.State.choices, required=False)


class SignalOutput(serializers.ModelSerializer):
    city = serializers.CharField(source="city_id", allow_null=True)
    why = serializers.SerializerMethodField()

    class Meta:
        model = RiskSignal
        fields = ["id", "kind", "city", "day", "subject", "why", "rows", "first_seen", "state"]

    def get_why(self, signal: RiskSignal) -> str:
        return explain.why(signal)


class StateInput(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=[
            (s.value, s.label)
            for s in (
                RiskSignal.State.LOOKED_AT,
                RiskSignal.State.DISMISSED,
                RiskSignal.State.ESCALATED,
            )
        ]
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=str(_("排除时必填")),
    )
