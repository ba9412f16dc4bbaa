"""Shapes of the credit API."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.i18n import localized

from .models import Consent, ConsentText, Standing
from .selectors import equivalents


class ConsentTextOutput(serializers.ModelSerializer):
    title = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()

    class Meta:
        model = ConsentText
        fields = ["version", "title", "body", "published_at"]

    def get_title(self, text: ConsentText) -> str:
        return localized(text.title_zh, text.title_en)

    def get_body(self, text: ConsentText) -> str:
        return localized(text.body_zh, text.body_en)


class ConsentInput(serializers.Serializer):
    consent_version = serializers.CharField(max_length=20)
    accept = serializers.BooleanField()

    def validate_accept(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError("accept must be true")
        return value


class ConsentOutput(serializers.ModelSerializer):
    consent_version = serializers.CharField(source="text.version")
    active = serializers.BooleanField()

    class Meta:
        model = Consent
        fields = ["id", "consent_version", "granted_at", "withdrawn_at", "active"]


class EquivalentOutput(serializers.Serializer):
    city = serializers.CharField()
    city_name = serializers.CharField()
    scheme = serializers.CharField()
    score = serializers.IntegerField()
    tier = serializers.CharField()
    rule_version = serializers.IntegerField()


class StandingOutput(serializers.ModelSerializer):
    """The resident's own standing: the raw score is shown to them alone."""

    scheme = serializers.CharField(source="rule_version.scheme.name")
    city = serializers.CharField(source="city_id")
    rule_version = serializers.IntegerField(source="rule_version.version")
    stale = serializers.BooleanField()
    expired = serializers.BooleanField()
    equivalents = serializers.SerializerMethodField()

    class Meta:
        model = Standing
        fields = [
            "city",
            "scheme",
            "score",
            "tier",
            "seriously_dishonest",
            "verified_at",
            "valid_until",
            "stale",
            "expired",
            "rule_version",
            "equivalents",
        ]

    @extend_schema_field(EquivalentOutput(many=True))
    def get_equivalents(self, standing: Standing) -> list[dict]:
        return EquivalentOutput(equivalents(standing), many=True).data


class PendingOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending"])
