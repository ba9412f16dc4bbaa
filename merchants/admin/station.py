"""Admin of stations (superusers and the city staff of the station's city)."""

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OutOfScopeIsNotFound
from accounts.models import City
from core.auth import signed_in_user

from .. import services
from ..models import Station
from ..scopes import is_city_staff, is_superuser, merchants_visible_to, stations_visible_to
from .cells import cut
from .forms import StationForm

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Counted(TypedDict):
    _merchant_count: int


@admin.register(Station)
class StationAdmin(OutOfScopeIsNotFound, admin.ModelAdmin):
    form = StationForm
    list_display = ["name_cell", "city", "merchant_count"]
    list_filter = [("city", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "merchants__name"]
    filter_horizontal = ["merchants"]
    list_select_related = ["city"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Station]:
        return stations_visible_to(signed_in_user(request)).annotate(
            _merchant_count=Count("merchants")
        )

    @admin.display(description=_("名称"), ordering="name")
    def name_cell(self, station: Station):
        return cut(station.name, size="l")

    @admin.display(description=_("商户数"), ordering="_merchant_count")
    def merchant_count(self, station: "WithAnnotations[Station, _Counted]") -> int:
        return station._merchant_count

    def get_readonly_fields(self, request, obj=None):
        return ["city"] if obj is not None and not is_superuser(request.user) else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "city" and is_city_staff(request.user):
            kwargs["queryset"] = City.objects.filter(code=request.user.staff_city_id)
            kwargs["initial"] = request.user.staff_city_id
            kwargs["empty_label"] = None
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "merchants":
            kwargs["queryset"] = merchants_visible_to(request.user).select_related("city")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_module_permission(self, request) -> bool:
        return is_superuser(request.user) or is_city_staff(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        if not self.has_module_permission(request):
            return False
        return (
            obj is None or is_superuser(request.user) or obj.city_id == request.user.staff_city_id
        )

    has_change_permission = has_delete_permission = has_view_permission

    def has_add_permission(self, request) -> bool:
        return self.has_module_permission(request)

    def save_related(self, request, form, formsets, change) -> None:
        # The station's merchants go through the service (all in the station's city).
        services.set_station_merchants(
            actor=request.user, station=form.instance, merchants=form.cleaned_data["merchants"]
        )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
