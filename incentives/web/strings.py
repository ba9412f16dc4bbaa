"""UI strings of the resident H5 app and the merchant scanner, by key.

Chinese is the source language (`gettext_lazy`, extracted by makemessages into
locale/en). Each entry also carries an English fallback, used only while the compiled
English catalog has no translation for the string; once it has one, the catalog wins.

Placeholders are `{name}`, filled in by the page scripts.
"""

from django.utils import translation
from django.utils.translation import gettext_lazy as _

Entry = tuple[object, str]

# Every error code of api.md (and the client's own network_error) has a friendly line.
ERRORS: dict[str, Entry] = {
    "err.invalid_request": (_("请检查填写的内容。"), "Please check what you entered."),
    "err.not_authenticated": (
        _("登录已过期，请重新登录。"),
        "Your session has ended. Please log in again.",
    ),
    "err.permission_denied": (
        _("当前账号无权进行此操作。"),
        "This account is not allowed to do that.",
    ),
    "err.not_found": (
        _("没有找到相关内容，可能已被删除。"),
        "Not found. It may have been removed.",
    ),
    "err.method_not_allowed": (
        _("请求无法处理，请刷新页面后重试。"),
        "The request could not be handled. Please reload the page and try again.",
    ),
    "err.not_acceptable": (
        _("请求无法处理，请刷新页面后重试。"),
        "The request could not be handled. Please reload the page and try again.",
    ),
    "err.unsupported_media_type": (
        _("请求无法处理，请刷新页面后重试。"),
        "The request could not be handled. Please reload the page and try again.",
    ),
    "err.request_too_large": (_("提交的内容太长了。"), "What you sent is too long."),
    "err.throttled": (
        _("操作太频繁了，请稍等片刻再试。"),
        "Too many attempts. Please wait a moment and try again.",
    ),
    "err.throttled_wait": (
        _("操作太频繁了，请 {seconds} 秒后再试。"),
        "Too many attempts. Please try again in {seconds} s.",
    ),
    "err.server_error": (
        _("服务器开小差了，请稍后再试。"),
        "Something went wrong on our side. Please try again later.",
    ),
    "err.network_error": (
        _("网络连接失败，请检查网络后重试。"),
        "No connection. Please check your network and try again.",
    ),
    "err.unknown": (_("出了点问题，请稍后再试。"), "Something went wrong. Please try again later."),
    "err.unknown_city": (
        _("所选城市暂未加入合作，请选择列表中的城市。"),
        "That city is not a partner city. Please pick one from the list.",
    ),
    "err.already_registered": (
        _("该手机号或身份证号已注册，请直接登录。"),
        "This phone or ID number is already registered. Please log in.",
    ),
    "err.invalid_credentials": (
        _("手机号或密码不正确。"),
        "Wrong phone number or password.",
    ),
    "err.invalid_token": (
        _("登录已过期，请重新登录。"),
        "Your session has ended. Please log in again.",
    ),
    "err.consent_required": (
        _("需要先同意信用查询授权。"),
        "Please give your consent to the credit query first.",
    ),
    "err.provider_unavailable": (
        _("您所在城市的信用平台暂时无法访问，请稍后再试。"),
        "Your home city's credit platform cannot be reached right now. Please try later.",
    ),
    "err.no_standing": (
        _("还没有信用核验结果，请先核验信用。"),
        "No credit check on file yet. Please check your credit first.",
    ),
    "err.not_eligible": (
        _("暂不符合该优惠的领取条件。"),
        "You do not meet this offer's conditions yet.",
    ),
    "err.quota_exhausted": (
        _("手慢了，该优惠已被领完。"),
        "Sorry, this offer has run out.",
    ),
    "err.claim_limit_reached": (
        _("您已领过该优惠，达到领取上限。"),
        "You have already claimed this offer as often as allowed.",
    ),
    "err.offer_not_active": (
        _("该优惠当前不在领取时间内。"),
        "This offer cannot be claimed at the moment.",
    ),
    "err.voucher_not_cancellable": (
        _("该券已使用、过期或已取消，不能再取消。"),
        "This voucher was used, expired or cancelled: it can no longer be cancelled.",
    ),
    "err.wrong_merchant": (
        _("这张券不属于本店，请提醒顾客到对应商户使用。"),
        "This voucher belongs to another merchant.",
    ),
    "err.already_redeemed": (_("该券已核销过。"), "This voucher has already been redeemed."),
    "err.already_redeemed_at": (
        _("该券已于 {time} 核销过。"),
        "This voucher was already redeemed at {time}.",
    ),
    "err.voucher_expired": (_("该券已过期。"), "This voucher has expired."),
    "err.voucher_revoked": (
        _("该券已被撤销（持有人资格发生变化）。"),
        "This voucher was revoked (the holder no longer qualifies).",
    ),
    "err.voucher_cancelled": (
        _("该券已被持有人取消。"),
        "The holder cancelled this voucher.",
    ),
    "err.idempotency_key_reused": (
        _("请求冲突，请刷新页面后重试。"),
        "Conflicting request. Please reload and try again.",
    ),
    "err.request_in_progress": (
        _("上一次操作还在处理中，请稍候再试。"),
        "Your last request is still being processed. Please wait a moment.",
    ),
    "err.not_merchant_staff": (
        _("该账号不是商户员工账号，不能核销。"),
        "This account is not a merchant staff account.",
    ),
    "err.pass_expired": (
        _("信用码已过期，请居民刷新后重新出示。"),
        "This credit pass has expired: ask the resident to show a fresh one.",
    ),
    "err.pass_already_used": (
        _("该信用码已用于此项权益，请居民刷新信用码。"),
        "This pass was already used for this entitlement: ask for a fresh pass.",
    ),
    "err.usage_limit_reached": (
        _("本周期内的使用次数已用完。"),
        "The uses allowed in this period are used up.",
    ),
    "err.usage_limit_reached_until": (
        _("本周期内的使用次数已用完，{time} 起可再次使用。"),
        "The uses allowed in this period are used up; available again from {time}.",
    ),
    "err.offer_not_claimable": (
        _("该权益无需领取，请在柜台出示信用码。"),
        "Nothing to claim: show your credit pass at the counter.",
    ),
    "err.objection_exists": (_("您已对该事件提出过异议。"), "You have already objected."),
    "err.incident_not_pending": (
        _("该事件当前状态下不能进行此操作。"),
        "This incident cannot be changed in its current state.",
    ),
    # where a code means something more specific on one screen
    "err.verify.no_standing": (
        _("您所在城市的信用平台暂未查到您的信用信息。"),
        "Your home city's credit platform has no record of you yet.",
    ),
    "err.scan.invalid_token": (
        _("二维码或券码无效，请让顾客刷新券码后重试。"),
        "Invalid QR code or voucher code. Ask the customer to reopen the voucher.",
    ),
    "err.scan.not_found": (
        _("没有找到这张券，请核对券码。"),
        "No such voucher. Please check the code.",
    ),
    "err.scan.permission_denied": (
        _("该账号不是商户员工账号，不能核销。"),
        "This account is not a merchant staff account.",
    ),
}

SHARED: dict[str, Entry] = {
    **ERRORS,
    "app.brand": (_("信游"), "Xinyou"),
    "common.loading": (_("加载中…"), "Loading…"),
    "common.retry": (_("重试"), "Try again"),
    "common.cancel": (_("取消"), "Cancel"),
    "common.confirm": (_("确定"), "OK"),
    "common.close": (_("关闭"), "Close"),
    "common.back": (_("返回"), "Back"),
    "common.logout": (_("退出登录"), "Log out"),
    "common.offline": (
        _("当前离线，部分功能不可用。"),
        "You are offline: some things will not work.",
    ),
    "login.phone": (_("手机号"), "Mobile number"),
    "login.password": (_("密码"), "Password"),
    "login.submit": (_("登录"), "Log in"),
    "login.busy": (_("正在登录…"), "Logging in…"),
    "login.required": (_("请填写手机号和密码。"), "Please enter your mobile number and password."),
    "login.expired": (
        _("登录已过期，请重新登录。"),
        "Your session has ended. Please log in again.",
    ),
    "tier.excellent": (_("优秀"), "Excellent"),
    "tier.good": (_("良好"), "Good"),
    "tier.fair": (_("一般"), "Fair"),
    "tier.poor": (_("较差"), "Poor"),
    "status.issued": (_("可使用"), "Ready to use"),
    "status.redeemed": (_("已核销"), "Redeemed"),
    "status.expired": (_("已过期"), "Expired"),
    "status.revoked": (_("已撤销"), "Revoked"),
    "status.cancelled": (_("已取消"), "Cancelled"),
    "benefit.percent_off": (_("{zhe} 折"), "{value}% off"),
    "benefit.amount_off": (_("立减 ¥{value}"), "¥{value} off"),
    "benefit.fixed_price": (_("特价 ¥{value}"), "Special price ¥{value}"),
    "benefit.free_entry": (_("免费入场"), "Free entry"),
    "benefit.deposit_waiver": (_("免押金"), "No deposit"),
    "benefit.priority_service": (_("优先服务"), "Priority service"),
    "benefit.gift": (_("赠品"), "Free gift"),
    "benefit.pay_later": (_("先享后付"), "Pay later"),
    "benefit.fast_track": (_("绿色通道"), "Fast track"),
}

INCIDENT_KINDS: dict[str, Entry] = {
    "incident.deposit_default": (_("押金未付"), "Deposit not paid"),
    "incident.unpaid_pay_later": (_("先享后付未付款"), "Pay-later not paid"),
    "incident.no_show": (_("预约未到"), "No-show"),
    "incident.damage": (_("损坏物品"), "Damage"),
    "incident.other": (_("其他"), "Other"),
}

RESIDENT: dict[str, Entry] = {
    **INCIDENT_KINDS,
    "app.title": (_("信游 · 守信激励"), "Xinyou · Trust rewards"),
    "app.tagline": (
        _("守信有礼，长三角通行"),
        "Good credit, rewarded across partner cities",
    ),
    "nav.credit": (_("我的信用"), "My credit"),
    "nav.offers": (_("优惠"), "Offers"),
    "nav.wallet": (_("券包"), "Vouchers"),
    "nav.pass": (_("信用码"), "Credit pass"),
    "pass.title": (_("我的信用码"), "My credit pass"),
    "pass.hint": (
        _("在柜台出示此码，工作人员扫码核验后即可使用信用权益。二维码会自动刷新，请勿截图。"),
        "Show this code at the counter to use an entitlement. It renews itself: "
        "do not use a screenshot.",
    ),
    "pass.valid_for": (
        _("{seconds} 秒内有效（至 {time}），到期前自动刷新"),
        "Valid for {seconds} s (until {time}); renews itself before then",
    ),
    "pass.refresh": (_("立即刷新"), "Renew now"),
    "pass.qr_alt": (_("信用码二维码"), "Credit pass QR code"),
    "pass.holder": (_("持码人"), "Holder"),
    "pass.tier": (_("信用等级"), "Credit tier"),
    "pass.home_city": (_("所在城市"), "Home city"),
    "pass.to_credit": (_("去核验信用"), "Check my credit"),
    "pass.incidents": (_("失信事件"), "Incidents"),
    "pass.suspended": (
        _("已暂停{scenario}权益，至 {time}"),
        "Your {scenario} perks are suspended until {time}",
    ),
    "pass.objection": (_("我的异议"), "My objection"),
    "pass.object": (_("提出异议"), "Object"),
    "pass.object_placeholder": (
        _("说明理由（如已付清、非本人），每个事件只能提出一次"),
        "Why (e.g. paid, not me); once per incident",
    ),
    "pass.objected": (_("已提交异议，等待城市审核"), "Objection sent; the city will review it"),
    "pass.uses": (_("权益使用记录"), "Entitlements used"),
    "pass.uses_empty": (_("还没有使用过信用权益。"), "No entitlement used yet."),
    "offers.show_pass": (_("出示信用码使用"), "Show credit pass"),
    "offers.per_day": (_("每人每天限用 {n} 次"), "{n} use(s) per person per day"),
    "offers.per_week": (_("每人每周限用 {n} 次"), "{n} use(s) per person per week"),
    "offers.per_month": (_("每人每月限用 {n} 次"), "{n} use(s) per person per month"),
    "offers.per_offer": (_("每人限用 {n} 次"), "{n} use(s) per person"),
    "scenario.travel": (_("信易游"), "travel"),
    "scenario.stay": (_("信易住"), "lodging"),
    "scenario.shopping": (_("信易购"), "shopping"),
    "scenario.transport": (_("信易行"), "transport"),
    "scenario.dining": (_("餐饮"), "dining"),
    "scenario.culture": (_("文化"), "culture"),
    "scenario.medical": (_("信用+医疗"), "medical"),
    "scenario.library": (_("信易借"), "library"),
    "scenario.government": (_("信易批"), "government services"),
    "scenario.finance": (_("信易贷"), "finance"),
    "incident_status.reported": (_("待审核"), "under review"),
    "incident_status.confirmed": (_("已确认"), "confirmed"),
    "incident_status.dismissed": (_("已驳回"), "dismissed"),
    "incident_status.objected": (_("异议处理中"), "objection under review"),
    "incident_status.upheld": (_("异议未采纳"), "objection rejected"),
    "incident_status.overturned": (_("异议成立，已撤销"), "overturned"),
    "login.title": (_("登录"), "Log in"),
    "login.not_resident": (
        _("该账号不是居民账号。商户员工请使用商户核销页面。"),
        "This is not a resident account. Merchant staff: please use the scanner page.",
    ),
    "login.no_account": (_("还没有账号？"), "No account yet?"),
    "login.to_register": (_("注册"), "Register"),
    "register.title": (_("注册居民账号"), "Register as a resident"),
    "register.real_name": (_("真实姓名"), "Full name (as on your ID card)"),
    "register.id_number": (_("居民身份证号码"), "Citizen ID number"),
    "register.id_hint": (
        _("仅用于向您户籍城市的信用平台核验身份，对外始终打码显示。"),
        "Used only to check your identity with your home city's credit platform; "
        "always shown masked.",
    ),
    "register.home_city": (_("户籍/常住城市"), "Home city"),
    "register.choose_city": (_("请选择城市"), "Choose a city"),
    "register.password_hint": (
        _("至少 8 位，不要与手机号相同。"),
        "At least 8 characters, not your phone number.",
    ),
    "register.submit": (_("注册并登录"), "Register and log in"),
    "register.busy": (_("正在注册…"), "Registering…"),
    "register.have_account": (_("已有账号？"), "Already registered?"),
    "register.to_login": (_("去登录"), "Log in"),
    "register.id_bad": (
        _("身份证号格式不对，应为 18 位（最后一位可能是 X）。"),
        "That ID number looks wrong: it has 18 characters (the last may be X).",
    ),
    "register.phone_bad": (_("请输入 11 位手机号。"), "Please enter an 11-digit mobile number."),
    "register.incomplete": (_("请把信息填写完整。"), "Please fill in every field."),
    "credit.hello": (_("你好，{name}"), "Hello, {name}"),
    "credit.home_city": (_("户籍城市：{city}"), "Home city: {city}"),
    "credit.consent_title": (_("信用查询授权"), "Consent to the credit query"),
    "credit.consent_intro": (
        _("核验信用前，需要您单独授权我们向您户籍城市的信用平台查询。"),
        "Before we check your credit we need your separate consent to ask your home "
        "city's credit platform.",
    ),
    "credit.consent_version": (_("授权书版本 {version}"), "Version {version}"),
    "credit.consent_accept": (_("我已阅读并同意授权"), "I have read this and agree"),
    "credit.consent_busy": (_("正在提交…"), "Sending…"),
    "credit.consent_given": (
        _("已授权信用查询（版本 {version}，{time}）"),
        "Credit query consented (version {version}, {time})",
    ),
    "credit.consent_withdraw": (_("撤回授权"), "Withdraw consent"),
    "credit.withdraw_title": (_("撤回信用查询授权？"), "Withdraw your consent?"),
    "credit.withdraw_body": (
        _("撤回后不再为您发起新的信用查询，需要核验的优惠将无法领取。撤回前已进行的处理不受影响。"),
        "No new credit query will be made for you, and offers that need a credit check "
        "cannot be claimed. Processing done before stays lawful.",
    ),
    "credit.withdrawn": (_("已撤回授权。"), "Consent withdrawn."),
    "credit.show_text": (_("查看授权书"), "Read the consent text"),
    "credit.standing_title": (_("我的城市信用"), "My city credit"),
    "credit.verify": (_("核验我的信用"), "Check my credit"),
    "credit.reverify": (_("重新核验"), "Check again"),
    "credit.need_consent": (
        _("同意授权后即可核验信用，查看可领取的优惠。"),
        "Give your consent to check your credit and see the offers you can claim.",
    ),
    "credit.none_yet": (
        _("还没有核验结果。核验只需几秒钟。"),
        "No result yet. A check takes a few seconds.",
    ),
    "credit.pending": (
        _("查询中，正在等待城市信用平台回复…"),
        "Checking: waiting for your city's credit platform…",
    ),
    "credit.pending_slow": (
        _("城市信用平台回复较慢，结果稍后会显示在这里，可稍后刷新查看。"),
        "The city platform is slow: the result will appear here later. Refresh in a while.",
    ),
    "credit.verified_ok": (_("核验完成。"), "Credit checked."),
    "credit.score": (_("信用分"), "Score"),
    "credit.tier": (_("等级"), "Tier"),
    "credit.verified_at": (_("核验时间 {time}"), "Checked {time}"),
    "credit.valid_until": (_("有效期至 {time}"), "Valid until {time}"),
    "credit.stale": (
        _("城市信用平台暂时无法访问，显示的是上次核验结果。"),
        "The city's platform cannot be reached: this is your last result.",
    ),
    "credit.expired": (
        _("核验结果已过期，请重新核验。"),
        "This result has expired. Please check again.",
    ),
    "credit.dishonest": (
        _("您已被列入严重失信主体名单，暂不能享受守信激励。完成信用修复后可重新核验。"),
        "You are on the list of seriously dishonest persons and cannot receive rewards "
        "for now. After credit repair, check again.",
    ),
    "credit.equivalents": (_("在其他合作城市相当于"), "What it counts as in partner cities"),
    "credit.equivalents_note": (
        _("按互认换算规则折算；等级互认，分数为等级内的对应值。标“示意”的分值区间为演示用。"),
        "Converted by the mutual recognition rules: tiers are recognised, the score is "
        "the equivalent within the tier. Ranges marked “demo” are illustrative.",
    ),
    "credit.illustrative": (_("示意"), "demo"),
    "credit.go_offers": (_("去看看优惠"), "Browse offers"),
    "offers.title": (_("守信优惠"), "Trust-reward offers"),
    "offers.all_cities": (_("全部城市"), "All cities"),
    "offers.all_stations": (_("全部站点"), "All stations"),
    "offers.all_categories": (_("全部"), "All"),
    "offers.search": (_("搜索优惠或商户"), "Search offers or merchants"),
    "offers.eligible_only": (_("只看我可领的"), "Only ones I can claim"),
    "offers.empty": (_("没有符合条件的优惠。"), "No offers match."),
    "offers.more": (_("加载更多"), "Load more"),
    "offers.eligible": (_("您可领取"), "You can claim this"),
    "offers.not_eligible": (_("暂不可领"), "Not for you yet"),
    "offers.login_to_see": (_("登录后查看领取资格"), "Log in to see if you qualify"),
    "offers.claim": (_("立即领取"), "Claim"),
    "offers.claiming": (_("领取中…"), "Claiming…"),
    "offers.claimed": (_("领取成功！已放入券包。"), "Claimed! It is in your vouchers."),
    "offers.remaining": (_("剩余 {n} 张"), "{n} left"),
    "offers.unlimited": (_("名额充足"), "Plenty left"),
    "offers.until": (_("{date} 前有效"), "Valid until {date}"),
    "offers.details": (_("优惠详情"), "Offer details"),
    "offers.rule": (_("领取条件"), "Who can claim"),
    "offers.rule_tier": (_("信用等级{tier}及以上"), "Credit tier {tier} or better"),
    "offers.rule_score": (_("{scheme} ≥ {score}（或等值）"), "{scheme} ≥ {score} (or equivalent)"),
    "offers.rule_any": (
        _("信用良好的合作城市居民"),
        "Residents of partner cities in good standing",
    ),
    "offers.rule_all": (_("所有合作城市居民"), "Residents of every partner city"),
    "offers.rule_visitors": (_("仅限外地游客"), "Visitors from other partner cities only"),
    "offers.rule_listed": (_("仅限指定城市居民"), "Residents of listed cities only"),
    "offers.usage": (_("使用说明"), "How to use"),
    "offers.validity": (_("有效期"), "Valid"),
    "offers.limit": (_("每人限领 {n} 张"), "{n} per person"),
    "offers.lifetime": (_("领取后 {n} 小时内有效"), "Valid for {n} h after claiming"),
    "offers.address": (_("地址"), "Address"),
    "offers.stations": (_("所属站点"), "Stations"),
    "offers.why_not": (_("原因："), "Why: "),
    "reason.tier_too_low": (_("信用等级未达到要求"), "your credit tier is below what it asks"),
    "reason.seriously_dishonest": (
        _("已列入严重失信主体名单"),
        "you are on the seriously dishonest list",
    ),
    "reason.home_city_not_eligible": (
        _("您的户籍城市不在适用范围内"),
        "it is not open to residents of your home city",
    ),
    "reason.standing_expired": (
        _("信用核验已过期，请重新核验"),
        "your credit check has expired: check again",
    ),
    "reason.offer_not_started": (_("优惠尚未开始"), "the offer has not started"),
    "reason.offer_ended": (_("优惠已结束"), "the offer has ended"),
    "reason.no_standing": (_("尚未完成信用核验"), "you have not checked your credit yet"),
    "reason.suspended": (
        _("因失信事件，暂停享受该场景的权益"),
        "suspended from this scenario after an incident",
    ),
    "reason.consent_withdrawn": (
        _("已撤回信用查询授权"),
        "you withdrew your consent to credit checks",
    ),
    "reason.usage_limit_reached": (_("本周期使用次数已用完"), "uses of this period used up"),
    "category.scenic": (_("景区景点"), "Sights"),
    "category.hotel": (_("酒店住宿"), "Hotels"),
    "category.shopping": (_("购物"), "Shopping"),
    "category.dining": (_("餐饮"), "Dining"),
    "category.transport": (_("交通出行"), "Transport"),
    "category.culture": (_("文化娱乐"), "Culture"),
    "category.other": (_("其他"), "Other"),
    "wallet.title": (_("我的券包"), "My vouchers"),
    "wallet.tab_usable": (_("可使用"), "Ready"),
    "wallet.tab_all": (_("全部"), "All"),
    "wallet.empty": (_("券包还是空的，去领一张优惠吧。"), "No vouchers yet. Claim an offer!"),
    "wallet.expires": (_("有效期至 {time}"), "Use by {time}"),
    "wallet.redeemed_at": (_("已于 {time} 核销"), "Redeemed {time}"),
    "wallet.show_hint": (
        _("到店请出示此二维码或券码，并出示本人身份证件。"),
        "Show this QR code or the code below at the shop, with your ID card.",
    ),
    "wallet.code": (_("券码"), "Voucher code"),
    "wallet.terms": (_("使用条款"), "Terms"),
    "wallet.merchant": (_("商户"), "Merchant"),
    "wallet.benefit": (_("优惠内容"), "Benefit"),
    "wallet.issued_at": (_("领取时间"), "Claimed"),
    "wallet.expires_at": (_("有效期至"), "Use by"),
    "wallet.cancel": (_("取消此券"), "Cancel this voucher"),
    "wallet.cancel_title": (_("取消这张券？"), "Cancel this voucher?"),
    "wallet.cancel_body": (
        _("取消后券码立即失效，名额退回给其他人。"),
        "The code stops working at once and its place goes back to the offer.",
    ),
    "wallet.cancelled_ok": (_("已取消。"), "Cancelled."),
    "wallet.not_usable": (_("此券已不能使用。"), "This voucher can no longer be used."),
    "wallet.qr_failed": (
        _("二维码加载失败，可出示下方券码。"),
        "The QR code did not load: show the code below instead.",
    ),
    "wallet.qr_alt": (_("券二维码"), "Voucher QR code"),
}

SCANNER: dict[str, Entry] = {
    **{key: entry for key, entry in RESIDENT.items() if key.startswith("reason.")},
    **INCIDENT_KINDS,
    "scan.pass_title": (
        _("信用码有效 · 请选择要使用的权益"),
        "Credit pass · choose the entitlement",
    ),
    "scan.pass_no_offers": (
        _("本店没有已发布的信用权益，无法使用信用码。"),
        "This merchant has no published entitlement to apply.",
    ),
    "scan.apply": (_("使用：{title}"), "Apply: {title}"),
    "scan.use_ok_title": (_("权益已使用"), "Entitlement applied"),
    "scan.used_at": (_("使用时间 {time}"), "Used at {time}"),
    "scan.uses_recent": (_("最近的信用权益使用"), "Recent entitlement uses"),
    "scan.uses_empty": (_("还没有信用权益使用记录。"), "No entitlement used yet."),
    "scan.report": (_("上报失信事件"), "Report an incident"),
    "scan.report_note": (_("情况说明（选填）"), "What happened (optional)"),
    "scan.report_submit": (_("提交"), "Submit"),
    "scan.reported": (_("已上报，等待城市审核"), "Reported; the city will review it"),
    "err.pass.invalid_token": (
        _("不是有效的信用码，请让居民刷新后重新出示。"),
        "Not a valid credit pass: ask the resident to show a fresh one.",
    ),
    "app.brand": (_("商户核销"), "Merchant scanner"),
    "app.title": (_("信游 · 商户核销"), "Xinyou · Merchant scanner"),
    "login.title": (_("商户员工登录"), "Merchant staff login"),
    "scan.staff": (_("核销员：{name}"), "Clerk: {name}"),
    "scan.not_staff": (
        _("该账号不是商户员工账号，请使用商户员工账号登录。"),
        "This is not a merchant staff account. Please log in with one.",
    ),
    "scan.keys_ok": (
        _("离线验签已就绪（{n} 个密钥）"),
        "Offline signature check ready ({n} keys)",
    ),
    "scan.keys_cached": (
        _("离线验签使用缓存的密钥（{n} 个）"),
        "Offline signature check uses cached keys ({n})",
    ),
    "scan.keys_none": (
        _("离线验签不可用，二维码将交由服务器校验"),
        "Offline check unavailable: the server will check QR codes",
    ),
    "scan.camera_title": (_("扫码核销"), "Scan a voucher"),
    "scan.camera_start": (_("打开摄像头扫码"), "Open the camera"),
    "scan.camera_stop": (_("关闭摄像头"), "Close the camera"),
    "scan.camera_hint": (_("把顾客的券二维码放进框内"), "Hold the voucher's QR code in the frame"),
    "scan.camera_failed": (
        _("无法打开摄像头（需要 HTTPS 和摄像头权限），请改用手动输入券码。"),
        "Cannot open the camera (needs HTTPS and permission): type the code instead.",
    ),
    "scan.manual_title": (_("手动输入券码"), "Type the voucher code"),
    "scan.manual_placeholder": (_("例如 65QK-6NM5-74"), "e.g. 65QK-6NM5-74"),
    "scan.manual_submit": (_("查询"), "Look up"),
    "scan.code_bad": (
        _("券码有误：应为 10 位字母数字，请核对后重输。"),
        "That code is not right: 10 letters and digits. Please check it.",
    ),
    "scan.token_title": (_("粘贴二维码内容"), "Paste a QR code's text"),
    "scan.token_submit": (_("校验"), "Check"),
    "scan.checking": (_("正在查询…"), "Looking it up…"),
    "scan.preview_title": (_("请核对后确认核销"), "Check, then confirm"),
    "scan.offer": (_("优惠"), "Offer"),
    "scan.holder": (_("持券人"), "Holder"),
    "scan.id_last4": (_("身份证尾号"), "ID card ends with"),
    "scan.id_hint": (
        _("请核对顾客身份证件尾号一致"),
        "Compare with the last four digits of the customer's ID card",
    ),
    "scan.code": (_("券码"), "Code"),
    "scan.expires": (_("有效期至"), "Use by"),
    "scan.confirm": (_("确认核销"), "Confirm redemption"),
    "scan.confirming": (_("核销中…"), "Redeeming…"),
    "scan.ok_title": (_("核销成功"), "Redeemed"),
    "scan.ok_at": (_("核销时间 {time}"), "Redeemed at {time}"),
    "scan.fail_title": (_("不能核销"), "Cannot redeem"),
    "scan.offline_forged": (
        _("二维码签名无效，可能是伪造或被篡改的券。"),
        "The QR code's signature is not valid: it may be forged or altered.",
    ),
    "scan.offline_malformed": (
        _("这不是信游券的二维码。"),
        "This is not a Xinyou voucher QR code.",
    ),
    "scan.offline_unknown_key": (
        _("二维码的签名密钥不被认可，可能是伪造的券。"),
        "The QR code was signed with an unknown key: it may be forged.",
    ),
    "scan.offline_expired": (_("该券已于 {time} 过期。"), "This voucher expired at {time}."),
    "scan.offline_note": (
        _("本机离线校验结果，未联网查询"),
        "Checked on this device, without the network",
    ),
    "scan.next": (_("继续核销下一张"), "Next voucher"),
    "scan.today": (_("今日核销"), "Redeemed today"),
    "scan.today_count": (_("共 {n} 张"), "{n} in all"),
    "scan.today_empty": (_("今天还没有核销记录。"), "Nothing redeemed today yet."),
    "scan.refresh": (_("刷新"), "Refresh"),
}


def catalog(lang: str, *groups: dict[str, Entry]) -> dict[str, str]:
    """The strings of `groups` in `lang`; English falls back to the entry's English text
    while the compiled catalog has no translation (the message is still the Chinese)."""
    out: dict[str, str] = {}
    with translation.override("zh-hans"):
        source = {key: str(msg) for group in groups for key, (msg, _en) in group.items()}
    english = lang.startswith("en")
    with translation.override(lang):
        for group in groups:
            for key, (msg, fallback) in group.items():
                text = str(msg)
                out[key] = fallback if english and text == source[key] else text
    return out
