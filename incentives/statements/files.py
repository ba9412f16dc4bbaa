"""A statement and a city roll-up as table rows, in the active language: what the CSV and
the PDF files both show (pdf.py lays the same rows out on pages). Names, not codes: the
merchant's, the city's and the offers' names; voucher codes masked to their last four."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import Alliance, City
from core.i18n import localized

from .rows import TZ
from .selectors import Figures, Line, Rollup, StatementData, entries


def city_name(city: "City | Alliance") -> str:
    return localized(city.name, city.name_en)


def offer_name(offer_id: int | None, title: str, title_en: str) -> str:
    if offer_id is None:
        return _("（未知优惠）")
    return localized(title or f"#{offer_id}", title_en)


def money(value: Decimal | None) -> str:
    """A yuan amount as `30.00`; empty when no price is stated (never 0)."""
    return "" if value is None else f"{value:.2f}"


def local(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S")


def kind_name(kind: int) -> str:
    names = {
        1: pgettext("statement row", "核销"),
        2: pgettext("statement row", "权益使用"),
        3: pgettext("statement row", "离线冲突"),
    }
    return names.get(kind, str(kind))


def figures_cells(figures: Figures) -> list[Any]:
    return [
        figures.redemptions,
        figures.entitlement_uses,
        figures.conflicts,
        money(figures.face_value),
    ]


def figure_headings() -> list[str]:
    return [_("核销次数"), _("权益使用次数"), _("离线冲突"), _("优惠面值（元）")]


@dataclass
class Section:
    """A titled table: headings, rows and a closing total row (or none)."""

    title: str
    headings: list[str]
    rows: list[list[Any]]
    total: list[Any] | None = None


def status_text(closed: bool) -> str:
    return _("已结账") if closed else _("未结账（数据仍会变化）")


def statement_header(data: StatementData) -> list[tuple[str, str]]:
    s = data.statement
    return [
        (_("商户"), data.merchant.name),
        (_("城市"), city_name(data.merchant.city)),
        (_("月份"), f"{data.month:%Y-%m}"),
        (_("状态"), status_text(data.closed)),
        (_("对账单编号"), s.number if s else ""),
        (_("结账时间"), local(s.closed_at) if s else ""),
        (_("校验值（SHA-256）"), s.checksum if s else ""),
    ]


def _line_cells(line: Line) -> list[Any]:
    return [offer_name(line.offer_id, line.title, line.title_en), *figures_cells(line.figures)]


def statement_sections(data: StatementData) -> list[Section]:
    """The per-offer totals and the adjustments."""
    return [
        Section(
            _("按优惠汇总"),
            [_("优惠"), *figure_headings()],
            [_line_cells(line) for line in data.lines],
            [_("合计"), *figures_cells(data.totals)],
        ),
        Section(
            _("调整（对已结账月份的更正）"),
            [_("更正的月份"), _("优惠"), *figure_headings()],
            [
                [f"{line.of_month:%Y-%m}" if line.of_month else "", *_line_cells(line)]
                for line in data.adjustments
            ],
            [_("调整合计"), "", *figures_cells(data.adjustments_total)],
        ),
    ]


def entry_headings() -> list[str]:
    return [
        _("类型"),
        _("时间"),
        _("优惠"),
        _("券码"),
        _("核销员"),
        _("方式"),
        _("同步时间"),
        _("优惠面值（元）"),
    ]


def entry_rows(data: StatementData) -> Iterator[list[Any]]:
    """Every redemption, entitlement use and offline conflict, in time order (Asia/Shanghai
    times), streamed."""
    titles = data.titles()
    online, offline = _("在线"), _("离线")
    for entry in entries(data):
        title, title_en = titles.get(entry.offer_id, ("", ""))
        yield [
            kind_name(entry.kind),
            local(entry.occurred_at),
            offer_name(entry.offer_id, title, title_en),
            f"****{entry.code_last4}" if entry.code_last4 else "",
            entry.clerk,
            offline if entry.offline else online,
            local(entry.synced_at),
            money(entry.face_value),
        ]


def statement_title() -> str:
    return _("商户对账单")


def is_alliance(rollup: Rollup) -> bool:
    return not isinstance(rollup.city, City)


def rollup_title() -> str:
    return _("城市对账汇总")


def rollup_header(rollup: Rollup) -> list[tuple[str, str]]:
    return [
        (_("城市联盟") if is_alliance(rollup) else _("城市"), city_name(rollup.city)),
        (_("月份"), f"{rollup.month:%Y-%m}"),
        (_("状态"), status_text(rollup.closed)),
        (_("商户数"), str(len(rollup.rows))),
    ]


def rollup_section(rollup: Rollup) -> Section:
    return Section(
        _("各商户对账单"),
        [
            _("商户"),
            _("对账单编号"),
            *figure_headings(),
            _("调整：核销次数"),
            _("调整：权益使用次数"),
            _("调整：离线冲突"),
            _("调整：优惠面值（元）"),
        ],
        [
            [
                row.merchant.name,
                row.statement.number if row.statement else "",
                *figures_cells(row.figures),
                *figures_cells(row.adjustments),
            ]
            for row in rollup.rows
        ],
        [_("合计"), "", *figures_cells(rollup.totals), *figures_cells(rollup.adjustments_total)],
    )


def statement_csv_rows(data: StatementData) -> Iterator[list[Any]]:
    yield [statement_title()]
    yield from ([label, value] for label, value in statement_header(data))
    for section in statement_sections(data):
        yield []
        yield [section.title]
        yield section.headings
        yield from section.rows
        if section.total is not None:
            yield section.total
    yield []
    yield [_("明细")]
    yield entry_headings()
    yield from entry_rows(data)


def rollup_csv_rows(rollup: Rollup) -> Iterator[list[Any]]:
    yield [rollup_title()]
    yield from ([label, value] for label, value in rollup_header(rollup))
    section = rollup_section(rollup)
    yield []
    yield section.headings
    yield from section.rows
    if section.total is not None:
        yield section.total
