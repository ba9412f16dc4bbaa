"""Print the sandbox SMS gateway's outbox: the demo's (and a tester's) way to read codes."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from accounts.sms.models import SmsOutboxMessage


class Command(BaseCommand):
    help = "Show the latest messages of the sandbox SMS gateway (demo verification codes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--phone", help="only messages to this phone")
        parser.add_argument("--last", type=int, default=10, help="how many (default 10)")

    def handle(self, *args: Any, phone: str | None = None, last: int = 10, **options: Any) -> None:
        rows = SmsOutboxMessage.objects.all()
        if phone:
            rows = rows.filter(phone=phone)
        latest = list(rows.order_by("-sent_at", "-pk")[: max(1, last)])
        if not latest:
            self.stdout.write("(the sandbox SMS outbox is empty)")
        for message in reversed(latest):
            sent = timezone.localtime(message.sent_at)
            self.stdout.write(f"{sent:%Y-%m-%d %H:%M:%S}  {message.phone}  {message.text}")
