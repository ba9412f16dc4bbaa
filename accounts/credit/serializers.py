"""Shapes of the credit API."""

from typing import cast

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.i18n import localized

from .models import Consent, ConsentText, HonourKind, Standing
from .selectors import equivalents, honours_of


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
    score = serializers.IntegerField(allow_null=True, help_text="null in a grade scheme")
    grade = serializers.CharField(allow_null=True, help_text="in a grade scheme, else null")
    tier = serializers.CharField()
    rule_version = serializers.IntegerField()


class HonourOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=HonourKind.choices)
    valid_until = serializers.DateField(allow_null=True, help_text="null: no end date")


class StandingOutput(serializers.ModelSerializer):
    """The resident's own standing: the raw score is shown to them alone."""

    scheme = serializers.CharField(source="rule_version.scheme.name")
    city = serializers.CharField(source="city_id")
    rule_version = serializers.IntegerField(source="rule_version.version")
    stale = serializers.BooleanField()
    expired = serializers.BooleanField()
    grade = serializers.SerializerMethodField(
        help_text="The grade in a grade scheme (then score is null), else null"
    )
    equivalents = serializers.SerializerMethodField()
    honours = serializers.SerializerMethodField(
        help_text="Honours in force on the home city's synced lists (行政奖励). They never "
        "override seriously_dishonest."
    )

    class Meta:
        model = Standing
        fields = [
            "city",
            "scheme",
            "score",
            "grade",
            "tier",
            "seriously_dishonest",
            "verified_at",
            "valid_until",
            "stale",
            "expired",
            "rule_version",
            "equivalents",
            "honours",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_grade(self, standing: Standing) -> str | None:
        return standing.grade or None

    @extend_schema_field(HonourOutput(many=True))
    def get_honours(self, standing: Standing) -> list[dict]:
        person_hash = standing.resident.id_hash
        if person_hash is None:  # an erased person has no standing left; for the type checker
            return []
        found = honours_of(person_hash=person_hash, city_code=standing.city_id)
        # many=True makes a ListSerializer, whose data is a list; the stubs keep the child's
        return cast(list[dict], HonourOutput(found, many=True).data)

    @extend_schema_field(EquivalentOutput(many=True))
    def get_equivalents(self, standing: Standing) -> list[dict]:
        return cast(list[dict], EquivalentOutput(equivalents(standing), many=True).data)


class PendingOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending"])
