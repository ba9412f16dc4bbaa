"""The statement files as HTTP responses, for the API and the admin alike: CSV (UTF-8 with
a BOM, formulas neutralised by the dashboard's export helper, streamed row by row) and PDF."""

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import translation

from ..dashboard.views import neutralise
from . import files, pdf
from .selectors import Rollup, StatementData


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_stream(rows: Iterable[list[Any]], language: str) -> Iterator[str]:
    # the rows are made while the response is sent: in the request's language still
    with translation.override(language):
        writer = csv.writer(_Echo())
        yield "\ufeff"
        for row in rows:
            yield writer.writerow([neutralise(cell) for cell in row])


def _csv(rows: Iterable[list[Any]], filename: str) -> StreamingHttpResponse:
    language = translation.get_language() or "zh-hans"
    response = StreamingHttpResponse(
        _csv_stream(rows, language), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _name(data: StatementData) -> str:
    if data.statement is not None:
        return f"xinyou-statement-{data.statement.number}"
    return f"xinyou-statement-{data.merchant.pk}-{data.month:%Y-%m}"


def statement_file(data: StatementData, fmt: str) -> HttpResponseBase:
    """The statement as `csv` or `pdf`."""
    if fmt == "pdf":
        return FileResponse(
            pdf.statement_pdf(data),
            as_attachment=True,
            filename=f"{_name(data)}.pdf",
            content_type="application/pdf",
        )
    return _csv(files.statement_csv_rows(data), f"{_name(data)}.csv")


def rollup_file(rollup: Rollup, fmt: str) -> HttpResponseBase:
    """The city roll-up as `csv` or `pdf`."""
    name = f"xinyou-statements-{rollup.city.code}-{rollup.month:%Y-%m}"
    if fmt == "pdf":
        return FileResponse(
            pdf.rollup_pdf(rollup),
            as_attachment=True,
            filename=f"{name}.pdf",
            content_type="application/pdf",
        )
    return _csv(files.rollup_csv_rows(rollup), f"{name}.csv")
