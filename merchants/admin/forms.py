"""The forms of the merchants admin (shape and field-level messages; rules: services)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import City

from ..models import Offer, Station
from ..services import merchants_outside


class StationForm(forms.ModelForm):
    class Meta:
        model = Station
        fields = ["name", "city", "description", "merchants"]

    def clean(self) -> dict[str, Any]:
        # The rule is the service's (set_station_merchants); shown here on the field.
        super().clean()  # returns cleaned_data (typed as maybe None for plain forms)
        data = self.cleaned_data
        city = data.get("city") or getattr(self.instance, "city", None)
        chosen = data.get("merchants") or []
        outside = [m.name for m in merchants_outside(city, chosen)] if city else []
        if outside:
            self.add_error(
                "merchants",
                _("以下商户不在该站点所在城市：%(names)s") % {"names": "、".join(outside)},
            )
        return data


class OfferForm(forms.ModelForm):
    class Meta:
        model = Offer
        fields = ["merchant", *Offer.EDITABLE_FIELDS]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "description_en": forms.Textarea(attrs={"rows": 3}),
            "usage_notes": forms.Textarea(attrs={"rows": 4}),
        }

    def clean(self) -> dict[str, Any]:
        super().clean()  # returns cleaned_data (typed as maybe None for plain forms)
        data = self.cleaned_data
        rule = data.get("home_city_rule")
        listed = rule == Offer.HomeCityRule.LISTED
        if listed and not data.get("eligible_home_cities") and not data.get("eligible_alliance"):
            self.add_error(
                "eligible_home_cities", _("“适用居民”为“指定城市”时，请至少选择一个城市。")
            )
        elif rule and not listed:
            data["eligible_home_cities"] = City.objects.none()
            data["eligible_alliance"] = None
        return data


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("驳回原因"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=1000,
        help_text=_("商户会看到这段文字，请写明需要修改的地方。"),
    )
