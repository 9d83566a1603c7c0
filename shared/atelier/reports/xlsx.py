"""`/reports.xlsx`: the report as a workbook (xlsxwriter). A summary sheet, then one sheet per table, each with a
header row; numbers are numbers (money with two decimals, rates as percentages) and dates are dates."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

from atelier.reports.model import Report, Table


def workbook(report: Report) -> bytes:
    import xlsxwriter  # only this route pays for the import

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "remove_timezone": True})
    bold = book.add_format({"bold": True, "bottom": 1})
    formats = {
        "money": book.add_format({"num_format": "#,##0.00"}),
        "rate": book.add_format({"num_format": "0.0%"}),
        "days": book.add_format({"num_format": "0.0"}),
        "seconds": book.add_format({"num_format": "0.0"}),
        "count": book.add_format({"num_format": "#,##0"}),
        "month": book.add_format({"num_format": "mmm yyyy"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
    }

    summary = book.add_worksheet("Summary")
    summary.write_row(0, 0, ["Figure", "Value", "Currency"], bold)
    summary.write(1, 0, "Period from")
    summary.write_datetime(1, 1, datetime.combine(report.period.start, datetime.min.time()), formats["date"])
    summary.write(2, 0, "Period to")
    summary.write_datetime(2, 1, datetime.combine(report.period.end, datetime.min.time()), formats["date"])
    summary.write(3, 0, "Made at (UTC)")
    summary.write_datetime(3, 1, report.generated_at, formats["datetime"])
    for i, line in enumerate(report.headlines(), start=4):
        summary.write(i, 0, line.label)
        _cell(summary, i, 1, line.value, formats.get(line.kind))
        if line.currency:
            summary.write(i, 2, line.currency)
    summary.set_column(0, 0, 26)
    summary.set_column(1, 2, 16)

    for table in report.tables:
        _sheet(book, table, bold, formats)
    book.close()
    return out.getvalue()


def _sheet(book: object, table: Table, bold: object, formats: dict[str, object]) -> None:
    sheet = book.add_worksheet(table.title[:31])  # type: ignore[attr-defined]
    sheet.write_row(0, 0, [c.name for c in table.columns], bold)
    for r, row in enumerate(table.rows, start=1):
        for c, (column, value) in enumerate(zip(table.columns, row, strict=True)):
            fmt = formats.get(column.kind) or (formats["datetime"] if isinstance(value, datetime) else None)
            _cell(sheet, r, c, value, fmt)
    sheet.set_column(0, 0, max(14, max((len(str(row[0])) for row in table.rows), default=10) + 2))
    sheet.set_column(1, len(table.columns) - 1, 14)
    sheet.freeze_panes(1, 0)


def _cell(sheet: object, row: int, col: int, value: object, fmt: object) -> None:
    if value is None:
        sheet.write_blank(row, col, None)  # type: ignore[attr-defined]
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value.replace(tzinfo=None), fmt)  # type: ignore[attr-defined]
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime.combine(value, datetime.min.time()), fmt)  # type: ignore[attr-defined]
    elif isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        sheet.write_number(row, col, float(value), fmt)  # type: ignore[attr-defined]
    else:
        sheet.write_string(row, col, str(value))  # type: ignore[attr-defined]
