"""Stable error codes of credit verification (api.md, "Credit standing")."""

from django.utils.translation import gettext_lazy as _

from accounts.errors import DomainError


class CreditError(DomainError):
    pass


def consent_required() -> CreditError:
    return CreditError("consent_required", _("请先同意信用查询授权。"), status=403)


def no_standing(**detail) -> CreditError:
    return CreditError("no_standing", _("暂无信用核验结果。"), status=404, detail=detail or None)


def provider_unavailable() -> CreditError:
    return CreditError(
        "provider_unavailable", _("城市信用平台暂时不可用，请稍后再试。"), status=503
    )


def no_scheme(city_code: str) -> CreditError:
    return CreditError(
        "provider_unavailable",
        _("该城市尚未接入信用分体系。"),
        status=503,
        detail={"city": city_code},
    )


def not_found() -> CreditError:
    return CreditError("not_found", _("未找到。"), status=404)
