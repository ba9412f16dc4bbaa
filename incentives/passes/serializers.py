"""Shapes of the credit pass, pass checks and entitlement uses (shape only)."""

from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.identity import mask_name
from accounts.models import Tier
from merchants.models import Offer, Scenario

from ..vouchers.serializers import plain_token
from .models import EntitlementUse


def _english() -> bool:
    return (get_language() or "").startswith("en")


class CityBriefOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class CreditPassOutput(serializers.Serializer):
    token = serializers.CharField(help_text="The signed pass the QR encodes (type XP1).")
    expires_at = serializers.DateTimeField(help_text="At most five minutes ahead.")
    valid_seconds = serializers.IntegerField(help_text="Seconds from now until expires_at.")
    tier = serializers.ChoiceField(choices=Tier.choices, help_text="The holder's common tier.")
    home_city = CityBriefOutput()
    holder = serializers.CharField(help_text="The holder's masked name.")
    qr_png_url = serializers.CharField()
    qr_svg_url = serializers.CharField()


class PassQrQuery(serializers.Serializer):
    token = serializers.CharField(max_length=256)


class PassCheckInput(serializers.Serializer):
    TOKEN_MAX, ID_MAX = 256, 2**63 - 1
    token = serializers.CharField(max_length=TOKEN_MAX, help_text="The credit pass token (QR).")
    offer_id = serializers.IntegerField(min_value=1, max_value=ID_MAX)


def pass_check_ref(data) -> dict:
    """PassCheckInput's validated data; what a counter sends (a plain token, an integer
    offer id in range) is taken as it is, anything else goes through the serializer for
    its checks and errors (the counter's hot path, as serializers.voucher_ref)."""
    if isinstance(data, dict):
        token, offer_id = data.get("token"), data.get("offer_id")
        if (
            plain_token(token, PassCheckInput.TOKEN_MAX)
            and type(offer_id) is int
            and 1 <= offer_id <= PassCheckInput.ID_MAX
        ):
            return {"token": token, "offer_id": offer_id}
    body = PassCheckInput(data=data)
    body.is_valid(raise_exception=True)
    return body.validated_data


class UseOfferOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    merchant = serializers.CharField()
    benefit_type = serializers.ChoiceField(choices=Offer.BenefitType.choices)
    scenario = serializers.ChoiceField(choices=Scenario.choices)


class HolderBriefOutput(serializers.Serializer):
    name = serializers.CharField(help_text="Masked name")
    id_last4 = serializers.CharField()


class PassCheckOutput(serializers.Serializer):
    """A use: never a score or tier, only what the clerk compares with the ID card."""

    id = serializers.IntegerField()
    offer = UseOfferOutput()
    used_at = serializers.DateTimeField()
    holder = HolderBriefOutput()


_DATETIME = serializers.DateTimeField()  # one field for every answer: building one costs


def pass_check_payload(use) -> dict:
    """`PassCheckOutput` of a `services.CheckedUse`, built directly (the counter's hot path)."""
    return {
        "id": use.id,
        "offer": {
            "id": use.offer_id,
            "title": use.offer_title_en if _english() and use.offer_title_en else use.offer_title,
            "merchant": use.merchant,
            "benefit_type": use.benefit_type,
            "scenario": use.scenario,
        },
        "used_at": _DATETIME.to_representation(use.used_at),
        "holder": {"name": mask_name(use.holder_name), "id_last4": use.id_last4},
    }


def offer_brief(offer: Offer, merchant_name: str) -> dict:
    return {
        "id": offer.pk,
        "title": offer.title_en if _english() and offer.title_en else offer.title,
        "merchant": merchant_name,
        "benefit_type": offer.benefit_type,
        "scenario": offer.scenario,
    }


class MerchantUseOutput(serializers.ModelSerializer):
    """One of the merchant's entitlement uses (the scanner's history)."""

    offer = serializers.SerializerMethodField()
    holder = serializers.SerializerMethodField()

    class Meta:
        model = EntitlementUse
        fields = ["id", "offer", "used_at", "holder"]

    @extend_schema_field(UseOfferOutput())
    def get_offer(self, use: EntitlementUse) -> dict:
        return offer_brief(use.offer, use.merchant.name)

    @extend_schema_field(HolderBriefOutput())
    def get_holder(self, use: EntitlementUse) -> dict:
        return {"name": mask_name(use.resident.real_name), "id_last4": use.resident.id_last4}


class ResidentUseOutput(serializers.ModelSerializer):
    offer = serializers.SerializerMethodField()
    city = serializers.SerializerMethodField()

    class Meta:
        model = EntitlementUse
        fields = ["id", "offer", "city", "used_at"]

    @extend_schema_field(UseOfferOutput())
    def get_offer(self, use: EntitlementUse) -> dict:
        return offer_brief(use.offer, use.merchant.name)

    @extend_schema_field(CityBriefOutput())
    def get_city(self, use: EntitlementUse) -> dict:
        city = use.dest_city
        return {
            "code": city.code,
            "name": city.name_en if _english() and city.name_en else city.name,
        }


class PassPreviewInput(serializers.Serializer):
    token = serializers.CharField(max_length=256, help_text="The credit pass token (QR).")


class PassPreviewOfferOutput(serializers.Serializer):
    offer = UseOfferOutput()
    can_apply = serializers.BooleanField(help_text="True when `reasons` is empty.")
    reasons = serializers.ListField(
        child=serializers.CharField(),
        help_text="Why it cannot be applied now: the check's eligibility reasons, "
        "usage_limit_reached, pass_already_used.",
    )
    used = serializers.IntegerField(help_text="The holder's uses in the current period.")
    limit = serializers.IntegerField()
    period = serializers.CharField()
    next_available_at = serializers.DateTimeField(allow_null=True)


class PassPreviewOutput(serializers.Serializer):
    """Who holds the pass (masked) and what the counter can apply; changes nothing."""

    expires_at = serializers.DateTimeField()
    holder = HolderBriefOutput()
    offers = PassPreviewOfferOutput(many=True)


def pass_preview_payload(preview) -> dict:
    """`PassPreviewOutput` of a `preview.PassPreview`."""
    english = _english()
    return {
        "expires_at": preview.expires_at,
        "holder": {"name": preview.holder_name, "id_last4": preview.id_last4},
        "offers": [
            {
                "offer": {
                    "id": o.offer_id,
                    "title": o.title_en if english and o.title_en else o.title,
                    "merchant": o.merchant,
                    "benefit_type": o.benefit_type,
                    "scenario": o.scenario,
                },
                "can_apply": not o.reasons,
                "reasons": o.reasons,
                "used": o.used,
                "limit": o.limit,
                "period": o.period,
                "next_available_at": o.next_available_at,
            }
            for o in preview.offers
        ],
    }
