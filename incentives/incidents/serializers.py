"""Shapes of the incidents API (shape only)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..passes.serializers import UseOfferOutput, offer_brief
from .models import Incident


class IncidentOutput(serializers.ModelSerializer):
    """An incident reported against the resident, with the suspension it brings."""

    merchant = serializers.CharField(source="merchant.name")
    offer = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=Incident.Kind.choices)
    status = serializers.ChoiceField(choices=Incident.Status.choices)
    suspended_until = serializers.SerializerMethodField(
        help_text="When the suspension from the scenario's offers ends; null when none holds."
    )
    may_object = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "merchant",
            "offer",
            "scenario",
            "kind",
            "note",
            "status",
            "reported_at",
            "suspended_until",
            "objection",
            "objected_at",
            "may_object",
        ]

    @extend_schema_field(UseOfferOutput())
    def get_offer(self, incident: Incident) -> dict:
        return offer_brief(incident.offer, incident.merchant.name)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_suspended_until(self, incident: Incident):
        if incident.status not in Incident.SUSPENDING or incident.suspended_until is None:
            return None
        return serializers.DateTimeField().to_representation(incident.suspended_until)

    @extend_schema_field(serializers.BooleanField())
    def get_may_object(self, incident: Incident) -> bool:
        return incident.objected_at is None and incident.status in ("reported", "confirmed")


class ObjectionInput(serializers.Serializer):
    text = serializers.CharField(max_length=2000, help_text="Why the incident is wrong.")


class IncidentReportInput(serializers.Serializer):
    use_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    voucher_code = serializers.CharField(required=False, max_length=32)
    kind = serializers.ChoiceField(choices=Incident.Kind.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    def validate(self, attrs: dict) -> dict:
        if (attrs.get("use_id") is None) == (not attrs.get("voucher_code")):
            raise serializers.ValidationError("send exactly one of use_id or voucher_code")
        return attrs


class IncidentReportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Incident.Status.choices)
