"""Input and output shapes of the dashboard API (shape only: the rules are in selectors)."""

from datetime import date, timedelta

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api import QuerySerializer

from .selectors import BREAKDOWNS, INTERVALS

# Days of the widest range one request may ask for: three years, one of them leap.
MAX_RANGE_DAYS = 3 * 365 + 1
DEFAULT_RANGE_DAYS = 30
# Dates outside these are typing mistakes, not figures anyone keeps.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


class RangeQuery(QuerySerializer):
    """`date_from`/`date_to` (inclusive, YYYY-MM-DD, Asia/Shanghai), `city` and
    `alliance`."""

    date_from = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text="First day, inclusive (Asia/Shanghai). Default: date_to minus 29 days.",
    )
    date_to = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text="Last day, inclusive (Asia/Shanghai). Default: today. The range may span "
        f"at most {MAX_RANGE_DAYS} days; days from {EARLIEST} to {LATEST}.",
    )
    city = serializers.RegexField(
        r"^\d{6}$",
        required=False,
        error_messages={"invalid": _("应为 6 位数字行政区划代码。")},
        help_text="Superusers: the partner city whose figures to show (default: all cities). "
        "City staff: may only name their own city (another is 403). With `alliance`: one "
        "of its member cities (another city is 404).",
    )
    alliance = serializers.RegexField(
        r"^[a-z0-9-]{1,20}$",
        required=False,
        error_messages={"invalid": _("应为城市联盟代码，如 yrd。")},
        help_text="The code of an alliance of partner cities (GET /api/v1/alliances): the "
        "figures of its member cities together, `flows` only between two members. Alliance "
        "staff: their own alliance (the default for them; another is 403). Superusers: any "
        "(an unknown one is 400). City staff: 403.",
    )

    def validate_date_from(self, value: date) -> date:
        return within_years(value)

    def validate_date_to(self, value: date) -> date:
        return within_years(value)

    def validate(self, attrs: dict) -> dict:
        today = self.context["today"]
        date_to = attrs.get("date_to") or today
        date_from = attrs.get("date_from") or date_to - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        if date_from > date_to:
            raise serializers.ValidationError({"date_from": [_("开始日期不能晚于结束日期。")]})
        if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
            raise serializers.ValidationError(
                {"date_to": [_("日期范围不能超过 3 年（%(n)s 天）。") % {"n": MAX_RANGE_DAYS}]}
            )
        return {**attrs, "date_from": date_from, "date_to": date_to}


def within_years(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise serializers.ValidationError(
            _("日期应在 %(lo)s 至 %(hi)s 之间。") % {"lo": EARLIEST, "hi": LATEST}
        )
    return value


class SeriesQuery(RangeQuery):
    interval = serializers.ChoiceField(
        choices=INTERVALS,
        required=False,
        default="day",
        help_text="day, week (ISO weeks from Monday) or month (calendar months).",
    )


class BreakdownQuery(RangeQuery):
    by = serializers.ChoiceField(
        choices=BREAKDOWNS,
        required=False,
        default="category",
        help_text="category (the voucher's category at claim), merchant, offer, "
        "home_city (the residents' home city, for the offers located in the city), scenario "
        "(the offer's scenario), station (a merchant in two stations counts in both), or "
        "refusal_reason (refused claims and pass checks by their first reason: `refusals`).",
    )


class _Counts(serializers.Serializer):
    claims = serializers.IntegerField(help_text="Vouchers issued (claimed) on these days.")
    redemptions = serializers.IntegerField(help_text="Vouchers redeemed on these days.")
    cancelled = serializers.IntegerField(help_text="Vouchers cancelled on these days.")
    expired = serializers.IntegerField(help_text="Vouchers that expired unused on these days.")
    revoked = serializers.IntegerField(help_text="Vouchers revoked on these days.")
    uses = serializers.IntegerField(
        help_text="Entitlements used on these days (credit passes checked at the counter)."
    )


_RATE_HELP = (
    "redemptions / claims over the same days, rounded to 4 decimals; null when there was "
    "no claim. Redemptions of vouchers claimed before the range count too, so it may "
    "exceed 1 on short ranges."
)


class SummaryOutput(_Counts):
    city = serializers.CharField(
        allow_null=True,
        help_text="City code of the figures; null = all cities, or the alliance's members.",
    )
    alliance = serializers.CharField(
        allow_null=True, help_text="Alliance code of the figures (`alliance=`), else null."
    )
    cities = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="The codes of the cities counted (an alliance's members now, or the one "
        "city); null = all cities.",
    )
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    redemption_rate = serializers.FloatField(allow_null=True, help_text=_RATE_HELP)
    unique_residents = serializers.IntegerField(
        help_text="Distinct residents who claimed at least one voucher in the city's offers "
        "in the range (each counted once however many days or offers)."
    )
    active_offers = serializers.IntegerField(
        help_text="Offers located in the city that are published now and whose validity "
        "overlaps the range (live count)."
    )
    paused_offers = serializers.IntegerField(
        help_text="Offers located in the city that are paused now and not yet over (live)."
    )
    credit_paused_offers = serializers.IntegerField(
        help_text="Of paused_offers, those the enterprise credit sync paused because their "
        "merchant is graded D or on the seriously-dishonest entities list."
    )
    merchants = serializers.IntegerField(
        help_text="Merchants located in the city that are participating (status active) now."
    )
    entitlement_uses = serializers.IntegerField(
        help_text="Entitlements used at the city's merchants in the range (= uses)."
    )
    refusals = serializers.IntegerField(
        help_text="Claims and pass checks of the city's offers turned away (not eligible, "
        "usage limit reached) in the range."
    )
    incidents = serializers.IntegerField(
        help_text="Incidents reported by the city's merchants in the range."
    )
    offline_conflicts = serializers.IntegerField(
        help_text="Offline redemptions uploaded in the range (by the city's merchants) whose "
        "voucher had already been redeemed elsewhere: each one a voucher used twice."
    )
    as_of = serializers.DateTimeField(
        allow_null=True,
        help_text="The time of the figures: every voucher event before it is counted (the "
        "last refresh of the roll-ups); null before the first refresh.",
    )


class SeriesRowOutput(_Counts):
    period = serializers.DateField(
        help_text="First day of the period: the day, the Monday of the ISO week, or the "
        "first of the month (may precede date_from for the first period)."
    )
    start = serializers.DateField(help_text="First day of the period inside the range.")
    end = serializers.DateField(help_text="Last day of the period inside the range.")


class BreakdownRowOutput(_Counts):
    key = serializers.CharField(
        help_text="Category code, merchant id, offer id, home-city code, scenario, station "
        "id or refusal reason (as a string)."
    )
    # DRF's metaclass takes declared fields off the class, so this output field does not
    # replace Field.label at run time; the stubs see the attribute.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="Display name in the request's language."
    )
    redemption_rate = serializers.FloatField(allow_null=True, help_text=_RATE_HELP)
    refusals = serializers.IntegerField(
        help_text="by=refusal_reason: refusals with this first reason; 0 otherwise."
    )


class FlowRowOutput(_Counts):
    home_city = serializers.CharField(help_text="Residents' home city code.")
    dest_city = serializers.CharField(help_text="City code where the offers are located.")
    home_city_name = serializers.CharField()
    dest_city_name = serializers.CharField()
