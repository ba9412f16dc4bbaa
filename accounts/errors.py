"""Error codes of registration, login and profiles (docs/api.md, "Accounts")."""

from django.utils.translation import gettext_lazy as _

from core.errors import declare

ALREADY_REGISTERED = declare("already_registered", 409, _("该手机号或身份证号已注册。"))
UNKNOWN_CITY = declare("unknown_city", 400, _("不是合作城市。"))
INVALID_CREDENTIALS = declare("invalid_credentials", 401, _("手机号或密码不正确。"))
# 401 for a refresh token; a voucher QR or code that fails its check is a 400.
INVALID_TOKEN = declare("invalid_token", 401, _("凭证无效或已过期。"))
