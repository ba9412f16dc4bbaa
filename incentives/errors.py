"""Error codes of claims, vouchers and redemption (docs/api.md, "Offers and vouchers",
"Merchant staff")."""

from django.utils.translation import gettext_lazy as _

from core.errors import declare

NOT_ELIGIBLE = declare("not_eligible", 403, _("暂不符合该优惠的领取条件。"))
QUOTA_EXHAUSTED = declare("quota_exhausted", 409, _("该优惠已领完。"))
CLAIM_LIMIT_REACHED = declare("claim_limit_reached", 409, _("您已达到该优惠的领取上限。"))
OFFER_NOT_ACTIVE = declare("offer_not_active", 410, _("该优惠当前不可领取。"))
VOUCHER_NOT_CANCELLABLE = declare("voucher_not_cancellable", 409, _("该券当前不能取消。"))
WRONG_MERCHANT = declare("wrong_merchant", 403, _("该券不属于本商户。"))
ALREADY_REDEEMED = declare("already_redeemed", 409, _("该券已核销。"))
VOUCHER_EXPIRED = declare("voucher_expired", 410, _("该券已过期。"))
VOUCHER_REVOKED = declare("voucher_revoked", 410, _("该券已被撤销。"))
VOUCHER_CANCELLED = declare("voucher_cancelled", 410, _("该券已取消。"))
IDEMPOTENCY_KEY_REUSED = declare("idempotency_key_reused", 409, _("该幂等键已用于另一个请求。"))
REQUEST_IN_PROGRESS = declare("request_in_progress", 409, _("相同的请求正在处理中，请稍后重试。"))
NOT_MERCHANT_STAFF = declare("not_merchant_staff", 403, _("只有商户员工可以核销。"))
