"""Admin of credit schemes (city staff: the schemes of their own city), consent texts,
and the read-only audit of provider queries."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OutOfScopeIsNotFound
from core import roles

from .models import Consent, ConsentText, CreditQuery, RuleVersion, Scheme


def _is_city_staff(request) -> bool:
    return roles.is_city_staff(request.user)


def _may_edit_scheme(request, scheme: Scheme | None) -> bool:
    if roles.is_superuser(request.user):
        return True
    if not _is_city_staff(request):
        return False
    return scheme is None or scheme.cities.filter(pk=request.user.staff_city_id).exists()


class RuleVersionInline(admin.StackedInline):
    """New versions only: a saved version is never rewritten."""

    model = RuleVersion
    extra = 0
    fields = [
        "version",
        "effective_from",
        ("poor_lo", "poor_hi"),
        ("fair_lo", "fair_hi"),
        ("good_lo", "good_hi"),
        ("excellent_lo", "excellent_hi"),
    ]
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return []

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return _may_edit_scheme(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return _may_edit_scheme(request, obj)


@admin.register(Scheme)
class SchemeAdmin(OutOfScopeIsNotFound, admin.ModelAdmin):
    list_display = ["name", "min_score", "max_score", "validity_days", "illustrative", "city_list"]
    search_fields = ["name"]
    inlines = [RuleVersionInline]

    @admin.display(description=_("城市"))
    def city_list(self, scheme: Scheme) -> str:
        return "、".join(c.name for c in scheme.cities.all())

    def get_queryset(self, request):
        qs = super().get_queryset(request).prefetch_related("cities")
        if request.user.is_superuser:
            return qs
        return qs.filter(cities=request.user.staff_city_id)

    def get_readonly_fields(self, request, obj=None):
        # the range is part of every version's meaning: fixed once versions exist
        return ["min_score", "max_score"] if obj and obj.rule_versions.exists() else []

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser or _is_city_staff(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _may_edit_scheme(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return _may_edit_scheme(request, obj)

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_formset(self, request, form, formset, change):
        for instance in formset.save(commit=False):
            if instance.pk is None and instance.created_by_id is None:
                instance.created_by = request.user
            instance.save()
        formset.save_m2m()


@admin.register(ConsentText)
class ConsentTextAdmin(admin.ModelAdmin):
    list_display = ["version", "title_zh", "published_at", "is_current"]

    def get_readonly_fields(self, request, obj=None):
        # a published text is what residents agreed to: publish a new version instead
        if obj is None:
            return []
        return ["version", "title_zh", "title_en", "body_zh", "body_en", "published_at"]

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Append-only records: nobody adds, changes or deletes them here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    actions = None


@admin.register(CreditQuery)
class CreditQueryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "id_masked",
        "city",
        "purpose",
        "requested_by",
        "outcome",
        "latency_ms",
        "rule_version",
    ]
    list_filter = ["outcome", "purpose", "city"]
    search_fields = ["id_masked"]
    date_hierarchy = "created_at"
    fields = [*list_display, "consent", "error"]
    readonly_fields = fields

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("city", "rule_version__scheme")
        if request.user.is_superuser:
            return qs
        return qs.filter(city=request.user.staff_city_id)

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser or _is_city_staff(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or _is_city_staff(request)


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["id", "text", "granted_at", "withdrawn_at"]
    list_filter = ["text"]
    fields = ["text", "granted_at", "withdrawn_at"]
    readonly_fields = fields

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser
