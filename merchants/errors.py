"""Error codes of merchants and offers (stable: clients and tests switch on them)."""

from django.utils.translation import gettext_lazy as _

from core.errors import declare

INVALID_TRANSITION = declare("invalid_transition", 409, _("该优惠当前状态下不能执行此操作。"))
REASON_REQUIRED = declare("reason_required", 400, _("驳回时必须填写原因。"))
OFFER_WINDOW_OVER = declare("offer_window_over", 409, _("优惠有效期已结束，不能发布或恢复。"))
MERCHANT_SUSPENDED = declare("merchant_suspended", 409, _("商户已暂停合作，不能提交或发布优惠。"))
NOT_EDITABLE = declare("offer_not_editable", 409, _("该优惠当前状态下不能修改。"))
NOT_DELETABLE = declare(
    "offer_not_deletable", 409, _("只有从未提交的草稿可以删除；其他优惠请改为“结束”。")
)
PAUSED_BY_CITY = declare(
    "paused_by_city", 403, _("该优惠由城市工作人员暂停，需由城市工作人员恢复。")
)
MERCHANT_NOT_IN_GOOD_STANDING = declare(
    "merchant_not_in_good_standing",
    409,
    _("商户企业信用不良（D 级或列入严重失信主体名单），不能提交、发布或恢复优惠。"),
)
