"""Notices to residents: the inbox (消息), each resident's SMS choices and language, and
the SMS deliveries with their dead letters.

Imported by accounts.models, so these belong to the `accounts` app.
"""

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NoticeKind(models.TextChoices):
    VOUCHER_EXPIRING = "voucher_expiring", _("优惠券即将过期")
    INCIDENT_REPORTED = "incident_reported", _("失信事件上报")
    INCIDENT_DECIDED = "incident_decided", _("失信事件审核结果")
    OBJECTION_DECIDED = "objection_decided", _("异议处理结果")
    SUSPENSION_ENDED = "suspension_ended", _("暂停期结束")
    TIER_CHANGED = "tier_changed", _("信用等级变化")
    ACCOUNT_CLOSED = "account_closed", _("账号注销")


class Notice(models.Model):
    """One message in a resident's inbox, about one event.

    `event` names the event within its kind (a voucher code, an incident id and step, a
    refresh); (resident, kind, event) is unique, so an event gives one notice however often
    and however concurrently it is announced. `params` holds what the text needs, each value
    a string or a {language: string} map; the text is rendered in the reader's language
    (accounts.notices.texts)."""

    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notices",
        verbose_name=_("居民"),
    )
    kind = models.CharField(_("类型"), max_length=24, choices=NoticeKind.choices)
    event = models.CharField(_("事件"), max_length=64)
    params = models.JSONField(_("参数"), default=dict)
    link = models.CharField(_("链接"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "kind", "event"], name="notice_once_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["resident", "-created_at", "-id"], name="notice_inbox"),
            models.Index(
                fields=["resident"], name="notice_unread", condition=Q(read_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class NoticeSettings(models.Model):
    """A resident's choices: which kinds also go by SMS (`sms`: kind → bool; a kind not
    listed goes by SMS), and the language of SMS texts (the app's language when the
    resident last opened the inbox or these settings; empty: Chinese)."""

    resident = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notice_settings",
        verbose_name=_("居民"),
    )
    sms = models.JSONField(_("短信提醒"), default=dict)
    language = models.CharField(_("语言"), max_length=8, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("消息设置")
        verbose_name_plural = _("消息设置")

    def __str__(self) -> str:
        return f"{self.resident_id}"


class SmsDelivery(models.Model):
    """One notice's SMS: queued, sent once through the gateway, retried with backoff
    while the gateway is down, and after the last try kept as a dead letter.

    `request_id` is the gateway request's id, the same on every try: the gateway takes a
    repeated id as the same message (docs/sms-gateway-api.md). `not_before` holds a message
    back through the quiet hours."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        DEAD = "dead", _("发送失败")

    notice = models.OneToOneField(
        Notice,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sms",
        verbose_name=_("消息"),
    )
    # null for the closing SMS (sent after the account is erased)
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("居民"),
    )
    city = models.ForeignKey(
        "accounts.City",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("居民所在城市"),
    )
    kind = models.CharField(_("类型"), max_length=24, choices=NoticeKind.choices)
    phone = models.CharField(_("手机号"), max_length=11, blank=True)
    text = models.CharField(_("内容"), max_length=300)
    request_id = models.UUIDField(_("请求编号"), default=uuid.uuid4, unique=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    not_before = models.DateTimeField(_("最早发送时间"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    claimed_until = models.DateTimeField(_("占用至"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=200, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    gateway_ref = models.CharField(_("网关消息编号"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("消息短信")
        verbose_name_plural = _("消息短信")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["not_before"],
                name="notice_sms_due",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["resident"], name="notice_sms_resident"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.get_status_display()}"


class DeadLetterManager(models.Manager["DeadLetter"]):
    def get_queryset(self) -> models.QuerySet["DeadLetter"]:
        return super().get_queryset().filter(status=SmsDelivery.Status.DEAD)


class DeadLetter(SmsDelivery):
    """The SMS that could not be delivered after every try (read-only in admin)."""

    objects: ClassVar[DeadLetterManager] = DeadLetterManager()

    class Meta:
        proxy = True
        verbose_name = _("未送达短信")
        verbose_name_plural = _("未送达短信（死信）")
