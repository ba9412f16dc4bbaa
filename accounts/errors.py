"""Error codes of registration, login and profiles (docs/api.md, "Accounts")."""

from django.utils.translation import gettext_lazy as _

from core.errors import declare

ALREADY_REGISTERED = declare("already_registered", 409, _("该手机号或身份证号已注册。"))
UNKNOWN_CITY = declare("unknown_city", 400, _("不是合作城市。"))
INVALID_CREDENTIALS = declare("invalid_credentials", 401, _("手机号或密码不正确。"))
# 401 for a refresh token; a voucher QR or code that fails its check is a 400.
INVALID_TOKEN = declare("invalid_token", 401, _("凭证无效或已过期。"))
# identity and account security (docs/accounts.md)
INVALID_SMS_CODE = declare("invalid_sms_code", 400, _("短信验证码不正确或已失效，请重新获取。"))
AGREEMENT_REQUIRED = declare("agreement_required", 400, _("请阅读并同意最新版用户协议与隐私政策。"))
IDENTITY_MISMATCH = declare("identity_mismatch", 403, _("姓名与身份证号不一致，请核对。"))
# outages of the SMS gateway and the identity provider (never a 500; not in api.md)
SMS_UNAVAILABLE = declare("sms_unavailable", 503, _("短信服务暂时不可用，请稍后再试。"))
IDENTITY_UNAVAILABLE = declare(
    "identity_unavailable", 503, _("实名核验服务暂时不可用，请稍后再试。")
)
