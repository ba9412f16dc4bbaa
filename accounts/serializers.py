"""Input and output shapes of the accounts API."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .credit.selectors import credit_summary, describe_scheme
from .identity import PHONE_RE, InvalidIdNumber, parse_id_number
from .models import City, User

_ID_REASONS = {
    "length": _("身份证号应为 18 位。"),
    "format": _("身份证号应为 17 位数字加 1 位数字或 X。"),
    "region": _("身份证号的地址码无效。"),
    "birth_date": _("身份证号中的出生日期无效。"),
    "birth_date_future": _("身份证号中的出生日期晚于今天。"),
    "check_digit": _("身份证号校验码不正确。"),
}


def _phone_field() -> serializers.RegexField:
    return serializers.RegexField(
        PHONE_RE, max_length=11, error_messages={"invalid": _("请输入 11 位大陆手机号。")}
    )


class RegisterInput(serializers.Serializer):
    phone = _phone_field()
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    real_name = serializers.CharField(max_length=50)
    id_number = serializers.CharField(max_length=32, write_only=True)
    home_city = serializers.CharField(max_length=6, help_text="6-digit city code")

    def validate_id_number(self, value: str) -> str:
        try:
            return parse_id_number(value).normalized
        except InvalidIdNumber as exc:
            raise serializers.ValidationError(_ID_REASONS[exc.reason], code=exc.reason) from None


class CitySummary(serializers.ModelSerializer):
    class Meta:
        model = City
        fields = ["code", "name", "province"]


class ProfileOutput(serializers.ModelSerializer):
    id_number = serializers.CharField(source="id_masked", help_text="Always masked.")
    home_city = CitySummary(allow_null=True)
    staff_city = CitySummary(allow_null=True)
    roles = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = User
        fields = [
            "id",
            "phone",
            "real_name",
            "id_number",
            "birth_date",
            "home_city",
            "staff_city",
            "role",
            "roles",
            "date_joined",
        ]


class CreditSummaryOutput(serializers.Serializer):
    consent = serializers.BooleanField(help_text="An active consent to credit queries exists.")
    standing = serializers.BooleanField(help_text="GET /me/credit has a standing to show.")


class MeOutput(ProfileOutput):
    credit = serializers.SerializerMethodField(
        help_text="Residents only (null otherwise): which of the consent and the standing "
        "exist, so that clients fetch only those."
    )

    class Meta(ProfileOutput.Meta):
        fields = [*ProfileOutput.Meta.fields, "credit"]

    @extend_schema_field(CreditSummaryOutput(allow_null=True))
    def get_credit(self, user: User) -> dict | None:
        return credit_summary(user) if "resident" in user.roles else None


class TokenInput(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInput(serializers.Serializer):
    refresh = serializers.CharField(max_length=2048)


class AccessOutput(serializers.Serializer):
    access = serializers.CharField()


class TierBandOutput(serializers.Serializer):
    tier = serializers.CharField()
    min_score = serializers.IntegerField()
    max_score = serializers.IntegerField()


class SchemeOutput(serializers.Serializer):
    name = serializers.CharField()
    min_score = serializers.IntegerField()
    max_score = serializers.IntegerField()
    illustrative = serializers.BooleanField(help_text="Range or cutoffs not public: demo values")
    rule_version = serializers.IntegerField(allow_null=True)
    tiers = TierBandOutput(many=True)


class CityOutput(serializers.ModelSerializer):
    scheme = serializers.SerializerMethodField()

    class Meta:
        model = City
        fields = ["code", "name", "name_en", "province", "scheme"]

    @extend_schema_field(SchemeOutput(allow_null=True))
    def get_scheme(self, city: City) -> dict | None:
        return describe_scheme(city.scheme)
