"""Shapes of the vouchers API (shape only: rules live in services and selectors)."""

from datetime import timedelta
from typing import TYPE_CHECKING

from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.identity import mask_name
from core import i18n
from core.api import QuerySerializer
from core.i18n import localized

from .. import signing
from ..dashboard.serializers import EARLIEST, LATEST, within_years
from .models import OfflineRedemption, Redemption, Voucher
from .offline import MAX_BATCH

if TYPE_CHECKING:
    from .services import Redeemed


class VoucherOfferOutput(serializers.Serializer):
    """The offer as the voucher was issued (its terms snapshot)."""

    id = serializers.IntegerField(source="offer_id")
    title = serializers.SerializerMethodField()
    merchant = serializers.CharField()
    city = serializers.CharField()
    benefit_type = serializers.CharField()
    benefit_value = serializers.CharField(allow_null=True)
    benefit_note = serializers.CharField(allow_blank=True)
    usage_notes = serializers.CharField(allow_blank=True)
    terms_version = serializers.IntegerField()

    @extend_schema_field(serializers.CharField())
    def get_title(self, terms: dict) -> str:
        return localized(terms["title"], terms.get("title_en"))


class VoucherOutput(serializers.ModelSerializer):
    display_code = serializers.SerializerMethodField()
    offer = VoucherOfferOutput(source="terms")
    token = serializers.SerializerMethodField(
        help_text="The signed string the QR encodes; null once the voucher is no longer usable"
    )
    qr_png_url = serializers.SerializerMethodField()
    qr_svg_url = serializers.SerializerMethodField()

    class Meta:
        model = Voucher
        fields = [
            "code",
            "display_code",
            "status",
            "offer",
            "issued_at",
            "expires_at",
            "redeemed_at",
            "token",
            "qr_png_url",
            "qr_svg_url",
        ]

    @extend_schema_field(serializers.CharField())
    def get_display_code(self, voucher: Voucher) -> str:
        return signing.format_code(voucher.code)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_token(self, voucher: Voucher) -> str | None:
        if voucher.status != Voucher.Status.ISSUED:
            return None
        return signing.voucher_token(voucher)

    def _url(self, voucher: Voucher, name: str) -> str:
        path = reverse(name, kwargs={"code": voucher.code})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    @extend_schema_field(serializers.CharField())
    def get_qr_png_url(self, voucher: Voucher) -> str:
        return self._url(voucher, "voucher-qr-png")

    @extend_schema_field(serializers.CharField())
    def get_qr_svg_url(self, voucher: Voucher) -> str:
        return self._url(voucher, "voucher-qr-svg")


class VoucherListQuery(QuerySerializer):
    status = serializers.ChoiceField(choices=Voucher.Status.choices, required=False)


class HolderOutput(serializers.Serializer):
    """What the clerk may know of the holder: a masked name and the ID's last four, to
    compare with the physical card. Never the score or tier."""

    name = serializers.SerializerMethodField()
    id_last4 = serializers.CharField()

    @extend_schema_field(serializers.CharField())
    def get_name(self, user) -> str:
        return mask_name(user.real_name)


class ScanVoucherOutput(serializers.Serializer):
    code = serializers.CharField()
    display_code = serializers.SerializerMethodField()
    status = serializers.CharField()
    offer = VoucherOfferOutput(source="terms")
    expires_at = serializers.DateTimeField()
    redeemed_at = serializers.DateTimeField(allow_null=True)
    holder = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField())
    def get_display_code(self, voucher: Voucher) -> str:
        return signing.format_code(voucher.code)

    @extend_schema_field(HolderOutput(allow_null=True))
    def get_holder(self, voucher: Voucher) -> dict | None:
        if not self.context.get("same_merchant"):
            return None  # another merchant's voucher: nothing about the person
        return HolderOutput(voucher.resident).data


class ScanOutput(serializers.Serializer):
    voucher = ScanVoucherOutput()
    redeemable = serializers.BooleanField()
    reason = serializers.CharField(
        allow_null=True,
        help_text="Why not: already_redeemed, voucher_expired, voucher_revoked (also when "
        "the holder is on a seriously-dishonest list), voucher_cancelled",
    )


class VoucherRefInput(serializers.Serializer):
    TOKEN_MAX = 256
    token = serializers.CharField(required=False, max_length=TOKEN_MAX)
    code = serializers.CharField(required=False, max_length=32)

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("token")) == bool(attrs.get("code")):
            raise serializers.ValidationError("send exactly one of token or code")
        return attrs


def plain_token(value, max_length: int) -> bool:
    """Whether a CharField of that length would take `value` unchanged: a str of printable
    ASCII, not blank, no surrounding spaces (a QR token as scanners send it)."""
    return (
        type(value) is str
        and 0 < len(value) <= max_length
        and value.isascii()
        and value.isprintable()
        and value.strip() == value
    )


def voucher_ref(data) -> dict:
    """VoucherRefInput's validated data. What a scanner sends (a lone printable ASCII
    token, no surrounding spaces, within the length) is taken as it is, the answer the
    serializer would give; anything else goes through the serializer for its checks and
    errors. The gate's hot path: building the serializer costs an eighth of a redemption."""
    token = data.get("token") if isinstance(data, dict) and "code" not in data else None
    if plain_token(token, VoucherRefInput.TOKEN_MAX):
        return {"token": token}
    ref = VoucherRefInput(data=data)
    ref.is_valid(raise_exception=True)
    return ref.validated_data


class RedemptionOutput(serializers.ModelSerializer):
    code = serializers.CharField(source="voucher.code")
    display_code = serializers.SerializerMethodField()
    offer = VoucherOfferOutput(source="voucher.terms")
    holder = HolderOutput(source="voucher.resident")

    class Meta:
        model = Redemption
        fields = ["code", "display_code", "redeemed_at", "scanned_at", "offer", "holder"]
        extra_kwargs = {
            "scanned_at": {
                "help_text": "Offline redemptions: when the clerk scanned it "
                "(redeemed_at is when the server recorded it); null for online ones"
            }
        }

    @extend_schema_field(serializers.CharField())
    def get_display_code(self, redemption: Redemption) -> str:
        return signing.format_code(redemption.voucher.code)


class RedemptionListQuery(QuerySerializer):
    date_from = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text=f"First day, inclusive (Asia/Shanghai); {EARLIEST} to {LATEST}.",
    )
    date_to = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text=f"Last day, inclusive (Asia/Shanghai); {EARLIEST} to {LATEST}.",
    )

    def validate_date_from(self, value):
        return within_years(value)

    def validate_date_to(self, value):
        return within_years(value)

    def validate(self, attrs: dict) -> dict:
        if (
            attrs.get("date_from")
            and attrs.get("date_to")
            and attrs["date_from"] > attrs["date_to"]
        ):
            raise serializers.ValidationError({"date_to": ["must not be before date_from"]})
        return attrs


class VoucherKeyOutput(serializers.Serializer):
    kid = serializers.CharField()
    alg = serializers.CharField()
    public_key = serializers.CharField(help_text="base64 of the raw 32-byte Ed25519 public key")
    not_before = serializers.DateTimeField(allow_null=True)
    not_after = serializers.DateTimeField(allow_null=True)


_DATETIME = serializers.DateTimeField()


def _offer_terms(terms: dict) -> dict:
    english = i18n.english()
    return {
        "id": terms["offer_id"],
        "title": localized(terms["title"], terms.get("title_en"), in_english=english),
        "merchant": str(terms["merchant"]),
        "city": str(terms["city"]),
        "benefit_type": str(terms["benefit_type"]),
        "benefit_value": terms["benefit_value"],
        "benefit_note": terms["benefit_note"],
        "usage_notes": terms["usage_notes"],
        "terms_version": terms["terms_version"],
    }


def redemption_payload(redeemed: "Redeemed") -> dict:
    """`RedemptionOutput`'s shape built directly: the gate's hot path, where the generic
    serializer costs a third of the request (tests pin that both give the same answer)."""
    return {
        "code": redeemed.code,
        "display_code": signing.format_code(redeemed.code),
        "redeemed_at": _DATETIME.to_representation(redeemed.redeemed_at),
        "scanned_at": None
        if redeemed.scanned_at is None
        else _DATETIME.to_representation(redeemed.scanned_at),
        "offer": _offer_terms(redeemed.terms),
        "holder": {
            "name": mask_name(redeemed.holder_name),
            "id_last4": (redeemed.holder_id_masked or "")[-4:],
        },
    }


_CODE = "__code__"  # stands for a voucher code in a reversed path (codes are [0-9A-Z])
_CODE_PATHS: dict[tuple, str] = {}


def _code_path(name: str, code: str) -> str:
    """reverse(name, kwargs={"code": code}), reversed once per URLconf and script prefix:
    two reversals cost a tenth of a claim's Python time."""
    key = (get_urlconf(), get_script_prefix(), name)
    template = _CODE_PATHS.get(key)
    if template is None:
        template = _CODE_PATHS[key] = reverse(name, kwargs={"code": _CODE})
    return template.replace(_CODE, code)


def voucher_payload(voucher: Voucher, request=None) -> dict:
    """`VoucherOutput`'s shape built directly: the claim's hot path, where the generic
    serializer cost as much as the claim's statements (a test pins both equal)."""
    issued = voucher.status == Voucher.Status.ISSUED
    urls = {}
    for field, name in (("qr_png_url", "voucher-qr-png"), ("qr_svg_url", "voucher-qr-svg")):
        path = _code_path(name, voucher.code)
        urls[field] = request.build_absolute_uri(path) if request else path
    return {
        "code": voucher.code,
        "display_code": signing.format_code(voucher.code),
        "status": voucher.status,
        "offer": _offer_terms(voucher.terms),
        "issued_at": _DATETIME.to_representation(voucher.issued_at),
        "expires_at": _DATETIME.to_representation(voucher.expires_at),
        "redeemed_at": None
        if voucher.redeemed_at is None
        else _DATETIME.to_representation(voucher.redeemed_at),
        "token": signing.voucher_token(voucher) if issued else None,
        **urls,
    }


# --------------------------------------------------------------------------- offline


_PRINTABLE = r"^[\x21-\x7e]{1,64}$"
_PRINTABLE_HELP = "1–64 printable ASCII characters, no spaces"


class OfflineRowInput(serializers.Serializer):
    """One voucher a scanner redeemed while offline."""

    token = serializers.CharField(required=False, max_length=256)
    code = serializers.CharField(required=False, max_length=32)
    scanned_at = serializers.DateTimeField(
        help_text="When the clerk scanned it (ISO 8601 with offset), by the device's clock"
    )
    device_id = serializers.RegexField(
        _PRINTABLE, help_text="The scanner's stable id (" + _PRINTABLE_HELP + ")"
    )
    nonce = serializers.RegexField(
        _PRINTABLE,
        help_text="Unique per scan, made by the device (" + _PRINTABLE_HELP + "); the same "
        "nonce again answers the same result",
    )

    def validate_scanned_at(self, value):
        try:
            if abs(value - timezone.now()) > timedelta(days=3650):
                raise serializers.ValidationError(_("扫码时间超出合理范围。"))
        except OverflowError:
            raise serializers.ValidationError(_("扫码时间超出合理范围。")) from None
        return value

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("token")) == bool(attrs.get("code")):
            raise serializers.ValidationError(_("token 和 code 须且只能提供其一。"))
        return attrs


class _BoundedRows(serializers.ListField):
    """A list whose length is checked before any row is parsed (a 10,000-row upload is
    refused at once, not after parsing every row)."""

    def to_internal_value(self, data):
        if isinstance(data, list) and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class RedemptionBatchInput(serializers.Serializer):
    redemptions = _BoundedRows(
        child=OfflineRowInput(),
        min_length=1,
        max_length=MAX_BATCH,
        help_text=f"1 to {MAX_BATCH} rows; nonces unique within the batch. A batch that "
        "does not parse is refused whole (400) and changes nothing.",
    )

    def validate_redemptions(self, rows: list[dict]) -> list[dict]:
        seen: set[str] = set()
        duplicates = {}
        for i, row in enumerate(rows):
            if row["nonce"] in seen:
                duplicates[str(i)] = {"nonce": [_("同一批次中的 nonce 重复。")]}
            seen.add(row["nonce"])
        if duplicates:
            raise serializers.ValidationError(duplicates)
        return rows


class OfflineResultOutput(serializers.Serializer):
    nonce = serializers.CharField()
    outcome = serializers.ChoiceField(
        choices=[*OfflineRedemption.Outcome.values, "idempotency_key_reused"],
        help_text="redeemed, or the error code a single redemption would have answered; "
        "idempotency_key_reused when this nonce was used before for another voucher",
    )
    redeemed_at = serializers.DateTimeField(
        allow_null=True,
        help_text="redeemed: when the server recorded it; already_redeemed: the first "
        "redemption's time; otherwise null",
    )


class RedemptionBatchOutput(serializers.Serializer):
    results = OfflineResultOutput(many=True, help_text="One per row, in the order sent")


class OfflineRedemptionQuery(RedemptionListQuery):
    conflict = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: only conflicts"
    )


class OfflineRedemptionOutput(serializers.ModelSerializer):
    code = serializers.CharField(source="voucher.code", allow_null=True, default=None)
    display_code = serializers.SerializerMethodField()
    offer_title = serializers.SerializerMethodField()

    class Meta:
        model = OfflineRedemption
        fields = [
            "nonce",
            "device_id",
            "code",
            "display_code",
            "offer_title",
            "outcome",
            "conflict",
            "scanned_at",
            "synced_at",
            "redeemed_at",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_display_code(self, row: OfflineRedemption) -> str | None:
        voucher = row.voucher  # None when no voucher matched (no query then)
        return signing.format_code(voucher.code) if voucher is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_offer_title(self, row: OfflineRedemption) -> str | None:
        voucher = row.voucher
        if voucher is None:
            return None
        terms = voucher.terms
        return localized(terms["title"], terms.get("title_en"))


class ScannerSetupOutput(serializers.Serializer):
    merchant_id = serializers.IntegerField(
        help_text="The merchant this staff member redeems for: an offline scanner refuses "
        "a voucher token that names another merchant"
    )
    merchant_name = serializers.CharField()
    max_batch = serializers.IntegerField(help_text="Rows per merchant/redemptions/batch")
    max_offline_age_hours = serializers.IntegerField(
        help_text="A scan older than this at upload is judged as of this long ago"
    )
