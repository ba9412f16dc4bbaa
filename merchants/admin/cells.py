"""Cells of the admin's lists that keep every column on one screen (admin.css): a long
text is cut with an ellipsis and the whole text is the cell's title (shown on hover);
times are Beijing time (the service's time zone), to the minute or to the day."""

from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

EMPTY = "—"


def cut(text: object, *, size: str = "") -> SafeString | str:
    """`text` in a span that ends with an ellipsis when too long; size: "", "xs", "s" or "l"."""
    text = "" if text is None else str(text)
    if not text:
        return EMPTY
    css = f"xy-cut xy-{size}" if size else "xy-cut"
    return format_html('<span class="{}" title="{}">{}</span>', css, text, text)


def local_minute(at: datetime | None) -> str:
    """`2026-03-01 16:05`, Beijing time."""
    return EMPTY if at is None else f"{timezone.localtime(at):%Y-%m-%d %H:%M}"


def local_day(at: datetime | None) -> SafeString | str:
    """The day (Beijing time), with the minute in the title."""
    if at is None:
        return EMPTY
    local = timezone.localtime(at)
    return format_html('<span title="{}">{}</span>', local_minute(at), f"{local:%Y-%m-%d}")


def short_label(label: object) -> str:
    """A choice's label without its explanation in brackets: 优惠券（在线领取…） → 优惠券;
    `Voucher (claimed online…)` → `Voucher`."""
    text = str(label)
    for bracket in ("（", " ("):
        text = text.split(bracket, 1)[0]
    return text


def local_short(at: datetime | None) -> SafeString | str:
    """`03-01 16:05` (Beijing time), with the year in the title: for a second or third
    time column beside a full one."""
    if at is None:
        return EMPTY
    local = timezone.localtime(at)
    return format_html('<span title="{}">{}</span>', local_minute(at), f"{local:%m-%d %H:%M}")
