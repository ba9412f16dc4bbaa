"""Admin of credit schemes (city staff: the schemes of their own city), consent texts,
and the read-only audit of provider queries."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OutOfScopeIsNotFound
from accounts.models import User
from core import roles
from core.errors import DomainError

from .conversion import TIERS
from .models import Consent, ConsentText, CreditQuery, RuleVersion, Scheme
from .services import add_rule_version, check_rule_version, may_version_scheme


def _is_city_staff(request) -> bool:
    return roles.is_city_staff(request.user)


def _may_see_scheme(request, scheme: Scheme | None) -> bool:
    """Superusers, and staff of a city that uses or owns the scheme."""
    if roles.is_superuser(request.user):
        return True
    if not _is_city_staff(request):
        return False
    city = request.user.staff_city_id
    return scheme is None or scheme.owner_city_id == city or scheme.cities.filter(pk=city).exists()


def _may_edit_scheme(request, scheme: Scheme | None) -> bool:
    """Changing a scheme and adding its rule versions: its owning city's staff only."""
    if scheme is None:
        return roles.is_superuser(request.user) or _is_city_staff(request)
    return may_version_scheme(request.user, scheme)


_TIER_WORDS = {
    "excellent": "excellent",
    "优秀": "excellent",
    "good": "good",
    "良好": "good",
    "fair": "fair",
    "一般": "fair",
    "poor": "poor",
    "较差": "poor",
}
_TIER_LABEL = {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "较差"}


class GradeTiersField(forms.CharField):
    """A grade scheme's grade → tier map, edited as one line per grade: ``AA = 优秀``."""

    widget = forms.Textarea(attrs={"rows": 7, "cols": 30})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return "\n".join(f"{g} = {_TIER_LABEL.get(t, t)}" for g, t in value.items())
        return value

    def to_python(self, value: Any) -> Any:  # dict[str, str] (CharField's own is str | None)
        text = super().to_python(value) or ""
        out: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            grade, sep, tier_word = line.partition("=")
            grade, tier = grade.strip(), _TIER_WORDS.get(tier_word.strip().lower())
            if not sep or not grade or tier is None:
                raise ValidationError(
                    _("第 %(n)s 行应为“等级 = 通用等级”，通用等级为优秀、良好、一般或较差。")
                    % {"n": number}
                )
            if grade in out:
                raise ValidationError(_("等级 %(g)s 出现了不止一次。") % {"g": grade})
            out[grade] = tier
        return out


class RuleVersionForm(forms.ModelForm):
    grade_tiers = GradeTiersField(
        label=_("等级对应的通用等级"),
        required=False,
        help_text=_("等级制体系：每行一个等级，如 “AA = 优秀”，按由高到低的顺序。"),
    )

    class Meta:
        model = RuleVersion
        fields = ["version", "effective_from", *(f"{t}_{e}" for t in TIERS for e in ("lo", "hi"))]


class RuleVersionFormSet(BaseInlineFormSet):
    """New versions go through accounts.credit.services: check_rule_version when the form is
    validated (its keeper, number and rules, shown on the form), add_rule_version when it
    is saved; the admin never saves a RuleVersion itself. `actor` is set per request."""

    actor: User | None = None

    def _actor(self) -> User:
        assert self.actor is not None  # set per request by RuleVersionInline.get_formset
        return self.actor

    def _rules(self, form) -> dict:
        data = form.cleaned_data
        names = [f for f in RuleVersionForm.Meta.fields if f != "version"] + ["grade_tiers"]
        rules = {name: data[name] for name in names if name in form.fields and name in data}
        return {"version": data["version"], **rules}

    def clean(self) -> None:
        super().clean()
        if self.instance.pk is None:  # a new scheme (superusers): checked once it is saved
            return
        for form in self.extra_forms:
            if (
                not form.has_changed()
                or not form.is_valid()
                or form.cleaned_data.get(DELETION_FIELD_NAME, False)  # _should_delete_form
            ):
                continue
            try:
                check_rule_version(actor=self._actor(), scheme=self.instance, **self._rules(form))
            except DomainError as exc:
                if exc.code == "permission_denied":
                    raise PermissionDenied from None  # the inline is not offered to them
                for field, messages in exc.detail.items():
                    form.add_error(field if field in form.fields else None, messages)

    def save_new(self, form, commit=True):
        return add_rule_version(actor=self._actor(), scheme=self.instance, **self._rules(form))


BAND_FIELDS = [
    ("poor_lo", "poor_hi"),
    ("fair_lo", "fair_hi"),
    ("good_lo", "good_hi"),
    ("excellent_lo", "excellent_hi"),
]


class RuleVersionInline(admin.StackedInline):
    """New versions only: a saved version is never rewritten. A numeric scheme's version
    gives four score bands; a grade scheme's version puts each grade in a tier."""

    model = RuleVersion
    form = RuleVersionForm
    formset = RuleVersionFormSet
    extra = 0
    can_delete = False

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)  # a class made per request
        formset.actor = request.user
        return formset

    def get_fields(self, request, obj=None):
        if obj is not None and obj.is_grade:
            return ["version", "effective_from", "grade_tiers"]
        return ["version", "effective_from", *BAND_FIELDS]

    def get_readonly_fields(self, request, obj=None):
        return []

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return _may_see_scheme(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        if obj is None:  # the scheme's own add page: superusers only
            return roles.is_superuser(request.user)
        return _may_edit_scheme(request, obj)


@admin.register(Scheme)
class SchemeAdmin(OutOfScopeIsNotFound, admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "min_score",
        "max_score",
        "validity_days",
        "illustrative",
        "owner_city",
        "city_list",
    ]
    search_fields = ["name"]
    inlines = [RuleVersionInline]

    @admin.display(description=_("城市"))
    def city_list(self, scheme: Scheme) -> str:
        return "、".join(c.name for c in scheme.cities.all())

    def get_queryset(self, request):
        qs = super().get_queryset(request).prefetch_related("cities")
        if roles.is_superuser(request.user):
            return qs
        city = request.user.staff_city_id
        return qs.filter(Q(cities=city) | Q(owner_city=city)).distinct()

    def get_readonly_fields(self, request, obj=None):
        # the range (or the grades) is part of every version's meaning: fixed once
        # versions exist
        fixed = (
            ["kind", "min_score", "max_score", "grades"]
            if obj and obj.rule_versions.exists()
            else []
        )
        return fixed if roles.is_superuser(request.user) else [*fixed, "owner_city"]

    def has_module_permission(self, request) -> bool:
        return roles.is_superuser(request.user) or _is_city_staff(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _may_see_scheme(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return _may_edit_scheme(request, obj)

    def has_add_permission(self, request) -> bool:
        return roles.is_superuser(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ConsentText)
class ConsentTextAdmin(admin.ModelAdmin):
    list_display = ["version", "title_zh", "published_at", "is_current"]

    def get_readonly_fields(self, request, obj=None):
        # a published text is what residents agreed to: publish a new version instead
        if obj is None:
            return []
        return ["version", "title_zh", "title_en", "body_zh", "body_en", "published_at"]

    def has_module_permission(self, request) -> bool:
        return roles.is_superuser(request.user)

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


_CREDIT_QUERY_COLUMNS = (
    "created_at",
    "id_masked",
    "city",
    "purpose",
    "requested_by",
    "outcome",
    "latency_ms",
    "rule_version",
)
_CREDIT_QUERY_FIELDS = (*_CREDIT_QUERY_COLUMNS, "consent", "error")


@admin.register(CreditQuery)
class CreditQueryAdmin(ReadOnlyAdmin):
    list_display = [*_CREDIT_QUERY_COLUMNS]
    list_filter = ["outcome", "purpose", "city"]
    search_fields = ["id_masked"]
    date_hierarchy = "created_at"
    fields = [*_CREDIT_QUERY_FIELDS]
    readonly_fields = [*_CREDIT_QUERY_FIELDS]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("city", "rule_version__scheme")
        if roles.is_superuser(request.user):
            return qs
        return qs.filter(city=request.user.staff_city_id)

    def has_module_permission(self, request) -> bool:
        return roles.is_superuser(request.user) or _is_city_staff(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return roles.is_superuser(request.user) or _is_city_staff(request)


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["id", "text", "granted_at", "withdrawn_at"]
    list_filter = ["text"]
    fields = ["text", "granted_at", "withdrawn_at"]
    readonly_fields = ["text", "granted_at", "withdrawn_at"]

    def has_module_permission(self, request) -> bool:
        return roles.is_superuser(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return roles.is_superuser(request.user)
