"""`/reports.pdf`: the same figures and charts as the page, paginated, drawn by fpdf2 (which draws the SVG charts
as vectors). The PDF's built-in fonts know Latin-1 only, so other characters are replaced, never dropped silently."""

from __future__ import annotations

import io

from atelier.kernel.format import latin1
from atelier.reports.charts import all_charts
from atelier.reports.model import NUMERIC, Report, Table, headline_text, show


def document(report: Report, studio: str = "Atelier") -> bytes:
    from fpdf import FPDF  # only this route pays for the import
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(latin1(f"{studio}: report for {report.period.label}"))
    pdf.set_creator("Atelier")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 18)
    pdf.multi_cell(0, 9, latin1(f"{studio}: report for {report.period.label}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    made = (
        f"{report.period.start:%-d %B %Y} to {report.period.end:%-d %B %Y}, in UTC. Made "
        f"{report.generated_at:%-d %B %Y at %H:%M} UTC."
    )
    pdf.multi_cell(0, 5, latin1(made), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    heading = FontFace(emphasis="BOLD", fill_color=(240, 240, 242))
    with pdf.table(col_widths=(2, 1), text_align=("LEFT", "RIGHT"), headings_style=heading, line_height=6) as grid:
        row = grid.row()
        row.cell("Figure")
        row.cell("Value")
        for line in report.headlines():
            row = grid.row()
            row.cell(latin1(line.label))
            row.cell(latin1(headline_text(line)))

    charts = all_charts(report)
    for table in report.tables:
        pdf.add_page() if pdf.get_y() > 170 else pdf.ln(6)
        pdf.set_font("helvetica", "B", 14)
        pdf.multi_cell(0, 8, latin1(table.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", "", 9)
        pdf.multi_cell(0, 5, latin1(table.note), new_x="LMARGIN", new_y="NEXT")
        chart = charts.get(table.key)
        if chart is not None:
            pdf.image(io.BytesIO(latin1(chart.svg).encode("utf-8")), w=pdf.epw * 0.8)
        _table(pdf, table, heading)
    return bytes(pdf.output())


def _table(pdf: object, table: Table, heading: object) -> None:
    align = tuple("RIGHT" if c.kind in NUMERIC else "LEFT" for c in table.columns)
    pdf.set_font("helvetica", "", 9)  # type: ignore[attr-defined]
    with pdf.table(text_align=align, headings_style=heading, line_height=5) as grid:  # type: ignore[attr-defined]
        row = grid.row()
        for column in table.columns:
            row.cell(latin1(column.name))
        for values in table.rows or [tuple("-" for _ in table.columns)]:
            row = grid.row()
            for column, value in zip(table.columns, values, strict=True):
                row.cell(latin1(show(value, column.kind)))
