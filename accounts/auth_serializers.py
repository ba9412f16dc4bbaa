"""Input and output shapes of sign-up, login, tokens, the agreement and the person's data."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .identity import PHONE_RE, InvalidIdNumber, parse_id_number
from .models import User
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


def phone_field() -> serializers.RegexField:
    return serializers.RegexField(
        PHONE_RE, max_length=11, error_messages={"invalid": _("请输入 11 位大陆手机号。")}
    )


def sms_code_field(**kwargs) -> serializers.RegexField:
    return serializers.RegexField(
        SMS_CODE_RE, max_length=6, error_messages={"invalid": _("验证码为 6 位数字。")}, **kwargs
    )


class SmsCodeInput(serializers.Serializer):
    phone = phone_field()
    purpose = serializers.ChoiceField(choices=SmsPurpose.values)


class SmsCodeOutput(serializers.Serializer):
    expires_in = serializers.IntegerField(help_text="Seconds the code stays valid.")
    resend_after = serializers.IntegerField(help_text="Seconds before another code may be sent.")


class RegisterInput(serializers.Serializer):
    phone = phone_field()
    sms_code = sms_code_field()
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    real_name = serializers.CharField(max_length=50)
    id_number = serializers.CharField(max_length=32, write_only=True)
    home_city = serializers.CharField(max_length=6, help_text="6-digit city code")
    agreement_version = serializers.CharField(
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
    password = serializers.CharField(max_length=128, required=False, trim_whitespace=False)
    sms_code = sms_code_field(required=False)

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
    refresh = serializers.CharField(max_length=2048)


class CloseAccountInput(serializers.Serializer):
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class AgreementOutput(serializers.Serializer):
    version = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    published_at = serializers.DateTimeField()


class AcceptAgreementInput(serializers.Serializer):
    agreement_version = serializers.CharField(max_length=20)


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
