"""Output shapes of the offers API (shape only: no rule lives here)."""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.credit.models import HonourKind
from accounts.models import City, Tier
from core.i18n import localized

from .models import Category, CreditGrade, Merchant, Offer, Scenario, Station


class CityBrief(serializers.ModelSerializer):
    class Meta:
        model = City
        fields = ["code", "name"]


class StationBrief(serializers.ModelSerializer):
    class Meta:
        model = Station
        fields = ["id", "name"]


class MerchantBrief(serializers.ModelSerializer):
    city = CityBrief()
    category = serializers.ChoiceField(choices=Category.choices)
    credit_grade = serializers.ChoiceField(
        choices=CreditGrade.choices,
        allow_null=True,
        help_text="Enterprise public-credit grade (A best … D worst), null until graded.",
    )
    trustworthy = serializers.BooleanField(
        help_text="Graded A and not on the seriously-dishonest entities list: the 诚信商户 badge."
    )

    class Meta:
        model = Merchant
        fields = [
            "id",
            "name",
            "city",
            "district",
            "address",
            "category",
            "credit_grade",
            "trustworthy",
        ]

    def to_representation(self, merchant: Merchant) -> dict[str, Any]:
        data = super().to_representation(merchant)
        data["credit_grade"] = merchant.credit_grade or None
        return data


class EligibilityRuleOutput(serializers.Serializer):
    min_tier = serializers.ChoiceField(
        choices=Tier.choices,
        allow_null=True,
        help_text="Lowest common tier admitted, or null.",
    )
    min_score = serializers.IntegerField(
        allow_null=True, help_text="Lowest score in the offer city's scheme, or null."
    )
    min_grade = serializers.CharField(
        allow_null=True,
        help_text="Lowest grade in the offer city's scheme when it is a grade scheme, or null.",
    )
    honour = serializers.ChoiceField(
        choices=HonourKind.choices,
        allow_null=True,
        help_text="The honour a resident must hold (e.g. blood_donor), or null.",
    )
    scheme = serializers.CharField(
        allow_null=True, help_text="Name of the offer city's credit scheme (for min_score)."
    )
    home_city_rule = serializers.ChoiceField(
        choices=Offer.HomeCityRule.choices,
        help_text="all: every partner city; listed: eligible_home_cities only; "
        "visitors: every partner city except the merchant's own.",
    )
    eligible_home_cities = serializers.ListField(
        child=serializers.CharField(), help_text="City codes, when home_city_rule is listed."
    )
    eligible_alliance = serializers.CharField(
        allow_null=True,
        help_text="When home_city_rule is listed: an alliance code (GET /api/v1/alliances) "
        "whose member cities' residents qualify too (members as at claim time), or null.",
    )

    def to_representation(self, offer: Offer) -> dict[str, Any]:
        scheme = offer.merchant.city.scheme
        return {
            "min_tier": offer.min_tier or None,
            "min_score": offer.min_score,
            "min_grade": offer.min_grade or None,
            "honour": offer.required_honour or None,
            "scheme": scheme.name if scheme is not None else None,
            "home_city_rule": offer.home_city_rule,
            "eligible_home_cities": [c.code for c in offer.eligible_home_cities.all()],
            "eligible_alliance": offer.eligible_alliance_id,
        }


class OfferOutput(serializers.ModelSerializer):
    """One published offer.

    Texts follow `Accept-Language` (English where the merchant wrote one). A view may put
    a callable `eligibility(offer) -> dict` in the context; its result is then added as
    `eligibility` (the resident's own eligibility and reasons).
    """

    title = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    benefit_value = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        allow_null=True,
        help_text="percent_off: percent taken off (20.00 = 20 % off); amount_off and "
        "fixed_price: yuan; null for the other benefit types.",
    )
    merchant = MerchantBrief()
    stations = StationBrief(many=True, source="merchant.stations")
    eligibility_rule = EligibilityRuleOutput(source="*")
    remaining_quota = serializers.IntegerField(
        allow_null=True, help_text="null when the quota is unlimited."
    )
    kind = serializers.ChoiceField(
        choices=Offer.Kind.choices,
        help_text="voucher: claimed in the app, a single-use QR voucher; entitlement: nothing "
        "to claim, the resident shows the credit pass at the counter.",
    )
    scenario = serializers.ChoiceField(choices=Scenario.choices)
    limit_per_period = serializers.IntegerField(
        allow_null=True, help_text="Entitlements: uses per resident per period; else null."
    )
    period = serializers.SerializerMethodField(
        help_text="Entitlements: day, week, month (Asia/Shanghai) or offer; else null."
    )

    class Meta:
        model = Offer
        fields = [
            "id",
            "title",
            "description",
            "category",
            "benefit_type",
            "benefit_value",
            "benefit_note",
            "merchant",
            "stations",
            "eligibility_rule",
            "valid_from",
            "valid_until",
            "total_quota",
            "remaining_quota",
            "per_resident_limit",
            "voucher_lifetime_hours",
            "kind",
            "scenario",
            "limit_per_period",
            "period",
            "usage_notes",
            "terms_version",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=Offer.Period.choices, allow_null=True))
    def get_period(self, offer: Offer) -> str | None:
        return offer.period or None

    @extend_schema_field(serializers.CharField())
    def get_title(self, offer: Offer) -> str:
        return localized(offer.title, offer.title_en)

    @extend_schema_field(serializers.CharField())
    def get_description(self, offer: Offer) -> str:
        return localized(offer.description, offer.description_en)

    def to_representation(self, offer: Offer) -> dict[str, Any]:
        data = super().to_representation(offer)
        eligibility: Callable[[Offer], Any] | None = self.context.get("eligibility")
        if eligibility is not None:
            data["eligibility"] = eligibility(offer)
        return data


class StationOutput(serializers.ModelSerializer):
    city = CityBrief()
    merchant_count = serializers.IntegerField(help_text="Active merchants in the station")

    class Meta:
        model = Station
        fields = ["id", "name", "city", "description", "merchant_count"]
