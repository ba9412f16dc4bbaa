"""Input and output shapes of the accounts API: sign-up, login, tokens, the agreement,
profiles, the person's data, partner cities."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.roles import is_resident

from .credit.selectors import credit_summary, describe_scheme
from .identity import PHONE_RE, InvalidIdNumber, parse_id_number
from .legal.services import accepted_version, agreement_outdated
from .models import City, Scheme, User
from .sms.models import SmsPurpose

ID_REASONS = {
    "length": _("身份证号应为 18 位。"),
    "format": _("身份证号应为 17 位数字加 1 位数字或 X。"),
    "region": _("身份证号的地址码无效。"),
    "birth_date": _("身份证号中的出生日期无效。"),
    "birth_date_future": _("身份证号中的出生日期晚于今天。"),
    "check_digit": _("身份证号校验码不正确。"),
}
SMS_CODE_RE = r"^[0-9]{6}$"


class _StrictString:
    """A string field that refuses numbers, booleans and the like instead of turning
    them into strings (`{"refresh": 0}` is a malformed request, not the token "0")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(_StrictString, serializers.CharField):
    pass


class StrictRegexField(_StrictString, serializers.RegexField):
    pass


def phone_field() -> serializers.RegexField:
    return StrictRegexField(
        PHONE_RE, max_length=11, error_messages={"invalid": _("请输入 11 位大陆手机号。")}
    )


def sms_code_field(**kwargs) -> serializers.RegexField:
    return StrictRegexField(
        SMS_CODE_RE, max_length=6, error_messages={"invalid": _("验证码为 6 位数字。")}, **kwargs
    )


class SmsCodeInput(serializers.Serializer):
    phone = phone_field()
    purpose = serializers.ChoiceField(choices=SmsPurpose.values)


class SmsCodeOutput(serializers.Serializer):
    expires_in = serializers.IntegerField(help_text="Seconds the code stays valid.")
    resend_after = serializers.IntegerField(help_text="Seconds before another code may be sent.")


class SmsCodeCheckInput(serializers.Serializer):
    phone = phone_field()
    sms_code = sms_code_field()


class SmsCodeCheckOutput(serializers.Serializer):
    valid = serializers.BooleanField(help_text="Always true (a wrong code is an error).")
    attempts_left = serializers.IntegerField(
        help_text="Tries the code has left (this check spent one)."
    )


class RegisterInput(serializers.Serializer):
    phone = phone_field()
    sms_code = sms_code_field()
    password = StrictCharField(max_length=128, write_only=True, trim_whitespace=False)
    real_name = StrictCharField(max_length=50)
    id_number = StrictCharField(max_length=32, write_only=True)
    home_city = StrictCharField(max_length=6, help_text="6-digit city code")
    agreement_version = StrictCharField(
        max_length=20,
        required=False,
        allow_blank=True,
        help_text="Version of the user agreement the person accepted "
        "(GET /api/v1/legal/agreement); missing or outdated: 400 agreement_required.",
    )

    def validate_id_number(self, value: str) -> str:
        try:
            return parse_id_number(value).normalized
        except InvalidIdNumber as exc:
            raise serializers.ValidationError(ID_REASONS[exc.reason], code=exc.reason) from None

    def validate_real_name(self, value: str) -> str:
        if any(not ch.isprintable() for ch in value):
            raise serializers.ValidationError(_("姓名含有无效字符。"), code="invalid")
        return value.strip()

    def validate_password(self, value: str) -> str:
        # checked with the other fields, so that every problem shows at once
        data = self.initial_data if isinstance(self.initial_data, dict) else {}
        probe = User(
            phone=str(data.get("phone", ""))[:11], real_name=str(data.get("real_name", ""))[:50]
        )
        try:
            validate_password(value, probe)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages)) from None
        return value


class TokenInput(serializers.Serializer):
    phone = phone_field()
    password = StrictCharField(max_length=128, required=False, trim_whitespace=False)
    sms_code = sms_code_field(required=False)
    # staff accounts: the authenticator's code or a recovery code (accounts.staff_auth)
    otp = StrictCharField(max_length=20, required=False)

    def validate(self, attrs: dict) -> dict:
        if ("password" in attrs) == ("sms_code" in attrs):
            raise serializers.ValidationError(
                {"password": [_("请填写密码或短信验证码（二选一）。")]}, code="required"
            )
        return attrs


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInput(serializers.Serializer):
    refresh = StrictCharField(max_length=2048)


class CloseAccountInput(serializers.Serializer):
    password = StrictCharField(max_length=128, trim_whitespace=False)


class AgreementOutput(serializers.Serializer):
    version = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    published_at = serializers.DateTimeField()


class AcceptAgreementInput(serializers.Serializer):
    agreement_version = StrictCharField(max_length=20)


class AcceptanceOutput(serializers.Serializer):
    agreement_version = serializers.CharField(source="agreement.version")
    accepted_at = serializers.DateTimeField()


class PersonDataOutput(serializers.Serializer):
    """Everything held about the caller; sections may grow."""

    generated_at = serializers.DateTimeField()
    profile = serializers.DictField()
    agreements = serializers.ListField(child=serializers.DictField())
    consents = serializers.ListField(child=serializers.DictField())
    standings = serializers.ListField(child=serializers.DictField())
    credit_queries = serializers.ListField(child=serializers.DictField())
    identity_checks = serializers.ListField(child=serializers.DictField())
    vouchers = serializers.ListField(child=serializers.DictField(), required=False)
    accessed_by = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="Who among the staff opened my data, newest first: "
        "{at, role, city, merchant, what} (never their phone or name).",
    )


class CitySummary(serializers.ModelSerializer):
    class Meta:
        model = City
        fields = ["code", "name", "province"]


class ProfileOutput(serializers.ModelSerializer):
    id_number = serializers.CharField(source="id_masked", help_text="Always masked.")
    home_city = CitySummary(allow_null=True)
    staff_city = CitySummary(allow_null=True)
    staff_alliance = serializers.CharField(
        source="staff_alliance_id",
        allow_null=True,
        help_text="Alliance staff: the code of their alliance (GET /api/v1/alliances).",
    )
    roles = serializers.ListField(child=serializers.CharField())
    agreement_version = serializers.SerializerMethodField(
        help_text="The latest user agreement version this user accepted."
    )
    agreement_outdated = serializers.SerializerMethodField(
        help_text="True when a newer agreement is current: show it and "
        "POST /api/v1/me/agreement to accept."
    )

    class Meta:
        model = User
        fields = [
            "id",
            "phone",
            "real_name",
            "id_number",
            "home_city",
            "staff_city",
            "staff_alliance",
            "role",
            "roles",
            "date_joined",
            "agreement_version",
            "agreement_outdated",
        ]

    def get_agreement_version(self, user: User) -> str | None:
        return accepted_version(user)

    def get_agreement_outdated(self, user: User) -> bool:
        return agreement_outdated(user)


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
        return credit_summary(user) if is_resident(user) else None


class TierBandOutput(serializers.Serializer):
    tier = serializers.CharField()
    min_score = serializers.IntegerField()
    max_score = serializers.IntegerField()


class GradeOutput(serializers.Serializer):
    grade = serializers.CharField()
    tier = serializers.CharField()


class SchemeOutput(serializers.Serializer):
    name = serializers.CharField()
    name_en = serializers.CharField(help_text="English name (addition; the name when none)")
    kind = serializers.ChoiceField(
        choices=Scheme.Kind.choices,
        help_text="numeric: a score range and tier bands; grade: ordered grades (best first)",
    )
    min_score = serializers.IntegerField(allow_null=True, help_text="null for a grade scheme")
    max_score = serializers.IntegerField(allow_null=True, help_text="null for a grade scheme")
    illustrative = serializers.BooleanField(help_text="Range or cutoffs not public: demo values")
    rule_version = serializers.IntegerField(allow_null=True)
    tiers = TierBandOutput(many=True, help_text="Score bands (numeric schemes; else empty)")
    grades = GradeOutput(many=True, help_text="Grades, best first (grade schemes; else empty)")


class CityOutput(serializers.ModelSerializer):
    scheme = serializers.SerializerMethodField()

    class Meta:
        model = City
        fields = ["code", "name", "name_en", "province", "scheme"]

    @extend_schema_field(SchemeOutput(allow_null=True))
    def get_scheme(self, city: City) -> dict | None:
        return describe_scheme(city.scheme)
