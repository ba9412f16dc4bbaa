"""Public pieces of the offers API: the offer filters (used by incentives.offers.api, which
serves /offers with the resident's eligibility) and the stations list."""

import re
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, permissions
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import City
from core.api import error_responses
from core.parsers import query_value_error

from . import selectors
from .models import Category, Offer, Scenario, Station
from .serializers import StationOutput


class _CityCodeField(forms.ModelChoiceField):
    """A partner city by its 6-digit code; the shape is checked before any query."""

    def to_python(self, value: Any) -> City | None:
        if value in self.empty_values:
            return None
        if not re.fullmatch(r"[0-9]{6}", str(value)):
            raise ValidationError(_("应为 6 位数字行政区划代码。"), code="invalid_choice")
        return super().to_python(value)


@extend_schema_field({"type": "string", "pattern": r"^\d{6}$"})
class _CityCodeFilter(django_filters.ModelChoiceFilter):
    field_class = _CityCodeField


MAX_ID = 2**63 - 1


class _StationField(forms.ModelChoiceField):
    """A station id; one out of the database's integer range is refused before any query."""

    def to_python(self, value: Any) -> Station | None:
        if value in self.empty_values:
            return None
        if not re.fullmatch(r"[0-9]{1,19}", str(value)) or not 1 <= int(value) <= MAX_ID:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class _StationFilter(django_filters.ModelChoiceFilter):
    field_class = _StationField


@extend_schema_field({"type": "string", "maxLength": 100})
class _SearchFilter(django_filters.CharFilter):
    pass


class StrictFilterSet(django_filters.FilterSet):
    """A filter given empty or twice is a mistake to report, not a filter to drop."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.filters:
            if name not in self.data:
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data[name]]
            if len(values) != 1 or values[0] == "":
                self.form.add_error(name, _("请只给出一个非空值。"))
                valid = False
            elif name != "q" and (problem := query_value_error("code", str(values[0]))):
                self.form.add_error(name, problem)
                valid = False
        return valid


class OfferFilter(StrictFilterSet):
    """Parses and validates the list's query; the selector does the filtering."""

    city = _CityCodeFilter(
        queryset=City.objects.all(), to_field_name="code", help_text="6-digit partner city code."
    )
    category = django_filters.ChoiceFilter(choices=Category.choices)
    benefit_type = django_filters.ChoiceFilter(choices=Offer.BenefitType.choices)
    scenario = django_filters.ChoiceFilter(choices=Scenario.choices)
    kind = django_filters.ChoiceFilter(choices=Offer.Kind.choices)
    station = _StationFilter(queryset=Station.objects.all(), help_text="Station id.")
    q = _SearchFilter(
        max_length=100, help_text="Words in the title (Chinese or English) or merchant name."
    )
    trustworthy = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        help_text="true: only offers of trustworthy merchants (诚信商户: grade A, not listed).",
    )

    class Meta:
        model = Offer
        fields: list[str] = []

    def selector_kwargs(self) -> dict[str, Any]:
        data = self.form.cleaned_data
        kwargs = {
            k: data.get(k) or None
            for k in ("city", "category", "benefit_type", "scenario", "kind", "station", "q")
        }
        kwargs["trustworthy"] = data.get("trustworthy") == "true"
        return kwargs


class StationFilter(StrictFilterSet):
    city = _CityCodeFilter(
        queryset=City.objects.all(), to_field_name="code", help_text="6-digit partner city code."
    )


@extend_schema(
    tags=["offers"],
    summary="Stations (named groups of merchants in a city), to browse offers by",
    responses={
        200: StationOutput(many=True),
        **error_responses(400, 404, s400="invalid_request (unknown city)"),
    },
)
class StationListView(generics.ListAPIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    serializer_class = StationOutput
    queryset = Station.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = StationFilter

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = StationFilter(request.query_params, queryset=Station.objects.none())
        if not filters.is_valid():
            raise translate_validation(filters.errors)
        page = self.paginate_queryset(
            selectors.stations(city=filters.form.cleaned_data.get("city"))
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
