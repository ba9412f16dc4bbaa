"""Shapes of the offers API (shape only: rules live in the selectors)."""

from rest_framework import serializers

from core import i18n
from core.api import QuerySerializer
from core.i18n import localized
from merchants.models import Offer
from merchants.serializers import OfferOutput

from ..eligibility import REASONS
from .place_names import english_place


class EligibilityOutput(serializers.Serializer):
    eligible = serializers.BooleanField()
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=REASONS),
        help_text="Why not (empty when eligible): " + ", ".join(REASONS),
    )


class MatchedOfferOutput(OfferOutput):
    """An offer; for a resident also their own `eligibility` (explainable: PIPL art. 24)."""

    # Not read_only: drf-spectacular lists every read-only field as required, and anonymous
    # callers, merchant and city staff get offers without it.
    eligibility = EligibilityOutput(
        required=False, help_text="Present only when the caller is a resident."
    )

    class Meta(OfferOutput.Meta):
        fields = [*OfferOutput.Meta.fields, "eligibility"]

    def to_representation(self, offer):
        data = super().to_representation(offer)
        if "eligibility" not in data or data["eligibility"] is None:
            data.pop("eligibility", None)
        return with_english_places(data)


def with_english_places(data: dict) -> dict:
    """Adds the English of the places that exist only in Chinese (addition): the merchant's
    `district_en` and each station's `name_en` (incentives.offers.place_names)."""
    merchant = data.get("merchant")
    if isinstance(merchant, dict):
        merchant["district_en"] = english_place(merchant.get("district") or "")
    for station in data.get("stations") or []:
        station["name_en"] = english_place(station["name"])
    return data


class OfferQuery(QuerySerializer):
    eligible = serializers.BooleanField(
        required=False, help_text="true: only offers the calling resident may claim now"
    )
    near = serializers.RegexField(
        r"^\d{6}$", required=False, help_text="City code to rank nearby offers first"
    )


_DATETIME = serializers.DateTimeField()
_DECIMAL = serializers.DecimalField(max_digits=10, decimal_places=2)


def offer_payload(row: dict, page, eligibility: dict | None = None) -> dict:
    """`MatchedOfferOutput`'s shape built from a plain row of `selectors.offer_page`: the
    offer list's hot path (tests pin it equal to the serializer, offer by offer)."""
    english = i18n.english()
    total, claimed = row["total_quota"], row["claimed_count"]
    data = {
        "id": row["id"],
        "title": localized(row["title"], row["title_en"], in_english=english),
        "description": (localized(row["description"], row["description_en"], in_english=english)),
        "category": row["category"],
        "benefit_type": row["benefit_type"],
        "benefit_value": None
        if row["benefit_value"] is None
        else _DECIMAL.to_representation(row["benefit_value"]),
        "benefit_note": row["benefit_note"],
        "merchant": {
            "id": row["merchant_id"],
            "name": row["merchant__name"],
            "city": {"code": row["merchant__city_id"], "name": row["merchant__city__name"]},
            "district": row["merchant__district"],
            "district_en": english_place(row["merchant__district"]),
            "address": row["merchant__address"],
            "category": row["merchant__category"],
            "credit_grade": row["merchant__credit_grade"] or None,
            "trustworthy": row["merchant__credit_grade"] == "A"
            and not row["merchant__seriously_dishonest"],
        },
        "stations": page.stations.get(row["merchant_id"], []),
        "eligibility_rule": {
            "min_tier": row["min_tier"] or None,
            "min_score": row["min_score"],
            "min_grade": row["min_grade"] or None,
            "honour": row["required_honour"] or None,
            "scheme": row["merchant__city__scheme__name"],
            "home_city_rule": row["home_city_rule"],
            "eligible_home_cities": page.home_cities.get(row["id"], []),
            "eligible_alliance": row["eligible_alliance_id"],
        },
        "valid_from": _DATETIME.to_representation(row["valid_from"]),
        "valid_until": _DATETIME.to_representation(row["valid_until"]),
        "total_quota": total,
        "remaining_quota": None if total is None else max(total - claimed, 0),
        "per_resident_limit": row["per_resident_limit"],
        "voucher_lifetime_hours": row["voucher_lifetime_hours"],
        "kind": row["kind"],
        "scenario": row["scenario"],
        "limit_per_period": row["limit_per_period"],
        "period": row["period"] or None,
        "usage_notes": row["usage_notes"],
        "terms_version": row["terms_version"],
    }
    if eligibility is not None:
        data["eligibility"] = eligibility
    return data


class MerchantOfferQuery(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Offer.Kind.choices, required=False)
