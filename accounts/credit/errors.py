"""Error codes of credit verification (docs/api.md, "Credit standing")."""

from django.utils.translation import gettext_lazy as _

from core.errors import declare

CONSENT_REQUIRED = declare("consent_required", 403, _("请先同意信用查询授权。"))
# 404 on GET /me/credit; 403 where a standing is a precondition (claims, the credit pass).
NO_STANDING = declare("no_standing", 404, _("暂无信用核验结果。"))
PROVIDER_UNAVAILABLE = declare(
    "provider_unavailable", 503, _("城市信用平台暂时不可用，请稍后再试。")
)
