"""Shapes of the notices API (docs/api.md, "Notices")."""

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api import QuerySerializer

from . import texts
from .models import Notice, NoticeKind
from .services import MAX_IDS


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false, nothing else (DRF's own also takes 0, 1, "yes"…)."""

    def to_internal_value(self, data: object) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class NoticeListQuery(QuerySerializer):
    unread = serializers.BooleanField(required=False, help_text="true: unread notices only")


class NoticeOutput(serializers.ModelSerializer):
    """A notice, its title and body in the request's language."""

    title = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = ["id", "kind", "title", "body", "created_at", "read_at", "link"]

    def _text(self, notice: Notice) -> tuple[str, str]:
        return texts.render(notice.kind, notice.params, get_language() or "")

    def get_title(self, notice: Notice) -> str:
        return self._text(notice)[0]

    def get_body(self, notice: Notice) -> str:
        return self._text(notice)[1]


class MarkReadInput(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=MAX_IDS,
    )
    all = StrictBooleanField(required=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("all") and "ids" not in attrs:
            raise serializers.ValidationError(_("请给出 ids 或 all: true。"))
        return attrs


class UnreadOutput(serializers.Serializer):
    unread = serializers.IntegerField()


def _sms_field() -> serializers.DictField:
    return serializers.DictField(child=StrictBooleanField())


class NoticeSettingsInput(serializers.Serializer):
    sms = _sms_field()

    def validate_sms(self, value: dict) -> dict:
        unknown = sorted(set(value) - set(NoticeKind.values))
        if unknown:
            raise serializers.ValidationError(
                _("未知的消息类型：%(kinds)s。") % {"kinds": ", ".join(unknown)}
            )
        return value


class NoticeSettingsOutput(serializers.Serializer):
    sms = _sms_field()
