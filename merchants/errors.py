"""Error codes of merchants and offers (stable: clients and tests switch on them)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.errors import DomainError


class MerchantError(DomainError):
    """A refused change to a merchant, station or offer."""


# (code, message, HTTP status)
PERMISSION_DENIED = ("permission_denied", _("没有权限对该优惠执行此操作。"), 403)
INVALID_TRANSITION = ("invalid_transition", _("该优惠当前状态下不能执行此操作。"), 409)
REASON_REQUIRED = ("reason_required", _("驳回时必须填写原因。"), 400)
OFFER_WINDOW_OVER = ("offer_window_over", _("优惠有效期已结束，不能发布或恢复。"), 409)
MERCHANT_SUSPENDED = ("merchant_suspended", _("商户已暂停合作，不能提交或发布优惠。"), 409)
NOT_EDITABLE = ("offer_not_editable", _("该优惠当前状态下不能修改。"), 409)
INVALID_OFFER = ("invalid_request", _("优惠内容有误。"), 400)
PAUSED_BY_CITY = ("paused_by_city", _("该优惠由城市工作人员暂停，需由城市工作人员恢复。"), 403)


def merchant_error(spec: tuple[str, Any, int], **detail: Any) -> MerchantError:
    code, message, status = spec
    return MerchantError(code, message, status=status, detail=detail or None)
