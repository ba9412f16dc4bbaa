"""The first published user agreement and privacy notice (loaded by a data migration)."""

AGREEMENT_V1 = {
    "version": "2026-01",
    "title_zh": "信游用户协议与隐私政策",
    "title_en": "Xinyou user agreement and privacy notice",
    "body_zh": (
        "一、我们是谁。信游是合作城市共同运营的守信激励服务。\n"
        "二、我们处理哪些个人信息、为什么。注册时：手机号（短信验证码证明手机号归您所有，用于登录和"
        "通知）、真实姓名和居民身份证号码（交由实名核验服务核对是否一致，防止他人冒用您的身份）、户籍"
        "或常住城市。身份证号码不以明文保存：只保存经密钥处理的哈希值，以及前四位和后四位（供商户核对"
        "证件）；不保存出生日期。您领取和使用的优惠券、核销记录用于兑现优惠和城市的汇总统计。\n"
        "三、信用信息另行授权。查询您的城市信用分属于敏感个人信息，需要您另行单独同意《信用信息查询授权"
        "书》，可随时撤回；不同意不影响注册。\n"
        "四、谁能看到。商户只看到券是否有效、您的姓名脱敏形式和身份证号后四位；城市工作人员只看到汇总"
        "数据。\n"
        "五、您的权利。您可以在「我的 › 我的数据」查看和复制我们保存的关于您的全部信息，"
        "可以在「我的 › 注销账号」注销账号：注销后您的姓名、手机号、身份证号哈希和脱敏号、"
        "信用状况和授权记录即被删除或"
        "不可逆地匿名化，未使用的优惠券作废并退回名额；依法须保存的信用查询记录以假名形式保存至少三年。"
        "注销后您可以用同一身份重新注册。\n"
        "六、安全。登录失败次数过多时账号的密码登录会被暂时锁定；"
        "短信验证码 5 分钟内有效且只能使用一次。\n"
        "七、协议更新。协议更新时，您下次登录会被请求重新阅读并同意。"
    ),
    "body_en": (
        "1. Who we are. Xinyou is a trust-reward service run together by the partner cities.\n"
        "2. What we process and why. At registration: your mobile number (proven yours by an "
        "SMS code; for login and notices), your real name and citizen ID number (checked by "
        "an identity service, so that nobody can use your identity), your home city. The ID "
        "number is not kept in plain text: only a keyed hash and its first and last four "
        "characters (for merchants to compare with your card); no birth date is kept. The "
        "vouchers you claim and use serve to give you the perks and for the cities' "
        "aggregate figures.\n"
        "3. Credit information needs a separate consent. Querying your city credit score is "
        "sensitive personal information: it needs your separate consent to the credit query "
        "authorisation, which you may withdraw at any time; registering does not require it.\n"
        "4. Who sees what. Merchants see only whether a voucher is valid, your masked name "
        "and the last four characters of your ID number; city staff see aggregates only.\n"
        "5. Your rights. Under Me › My data you can see and copy everything we hold about "
        "you; under Me › Close account you can close the account: your name, phone, ID hash "
        "and mask, credit standing and consents are then deleted or irreversibly "
        "anonymised, unused vouchers are cancelled and their places returned; the credit "
        "query records the law requires us to keep stay under a pseudonym for at least three "
        "years. You may register again afterwards.\n"
        "6. Security. After too many failed logins the password login of an account is "
        "locked for a while; SMS codes are valid for 5 minutes and once.\n"
        "7. Changes. When this agreement changes, you are asked to read and accept it again "
        "at your next login."
    ),
}
