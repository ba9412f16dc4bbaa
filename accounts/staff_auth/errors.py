"""Error codes of the staff API login (docs/api.md, "Accounts": additions)."""

from django.utils.translation import gettext_lazy as _

from core.errors import declare

# A staff account's password (or SMS code) was right; the second factor is missing.
OTP_REQUIRED = declare(
    "otp_required", 401, _("工作人员账号登录还需要身份验证器上的验证码（或一个恢复码）。")
)
# The second factor was wrong, spent or tried too often.
INVALID_OTP = declare("invalid_otp", 401, _("验证码不正确或已使用，请重试。"))
