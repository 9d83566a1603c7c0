"""`atelier report`: the owner's report in the terminal (and as .xlsx or .pdf files), and `report link`, the signed
link that opens it in a browser."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from atelier import wiring
from atelier.cli.args import verb
from atelier.cli.render import table
from atelier.kernel.settings import ReportSettings
from atelier.reports.links import DEFAULT_HOURS, MAX_HOURS
from atelier.reports.model import fetch, headline_text, show
from atelier.reports.period import HELP, PeriodError, parse


def show_report(args: argparse.Namespace) -> int:
    try:
        period = parse(args.period, datetime.now(UTC).date())
    except PeriodError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 2
    if args.network:
        return _network(period)
    report = fetch(wiring.rpc(), period)
    studio = wiring.settings(ReportSettings).studio_name
    print(f"{studio}: report for {period.label} ({period.start} to {period.end}, UTC)\n")
    print(table(["Figure", "Value"], [(line.label, headline_text(line)) for line in report.headlines()], rule=True))
    for section in report.tables:
        print(f"\n{section.title}")
        rows = [
            [show(value, column.kind) for column, value in zip(section.columns, row, strict=True)]
            for row in section.rows
        ]
        rows = rows or [["nothing in this period"] + [""] * (len(section.columns) - 1)]
        print(table([c.name for c in section.columns], rows, rule=True))
    for target, make in ((args.xlsx, _xlsx), (args.pdf, _pdf)):
        if target:
            try:
                Path(target).write_bytes(make(report, studio))
            except OSError as exc:  # a folder that is not there, or not ours to write in
                reason = exc.strerror or str(exc)
                print(
                    f"report: cannot write {target}: {reason}; give a path in a folder you may write to",
                    file=sys.stderr,
                )
                return 2
            print(f"\nreport: wrote {target}", file=sys.stderr)
    return 0


def _network(period: Any) -> int:
    """Every business's report, side by side, and their sums."""
    from atelier.kernel.business import for_each
    from atelier.reports.network import network

    runs = for_each(wiring.directory().all(), lambda b: (b.name, fetch(wiring.rpc(), period))).settled()
    section = network(dict(runs.done.values()))
    print(f"The network: report for {period.label} ({period.start} to {period.end}, UTC)\n")
    rows = [[show(v, c.kind) for c, v in zip(section.columns, row, strict=True)] for row in section.rows]
    print(table([c.name for c in section.columns], rows, rule=True))
    print(f"\n{section.note}")
    return 0


def _xlsx(report: Any, studio: str) -> bytes:
    from atelier.reports.xlsx import workbook

    return workbook(report)


def _pdf(report: Any, studio: str) -> bytes:
    from atelier.reports.pdf import document

    return document(report, studio)


def link(args: argparse.Namespace) -> int:
    if not 0 < args.hours <= MAX_HOURS:
        print(f"report: --hours is more than 0 and at most {MAX_HOURS} (90 days)", file=sys.stderr)
        return 2
    if args.period:
        try:
            parse(args.period, datetime.now(UTC).date())
        except PeriodError as exc:
            print(f"report: {exc}", file=sys.stderr)
            return 2
    url = wiring.report_links().url(args.hours, period=args.period)
    print(
        f"report: a link to the owner's report, good for {args.hours:g} hours; anyone with it sees the figures",
        file=sys.stderr,
    )
    print(url)
    return 0


def _link_id(text: str) -> str:
    """A link's id: the part of its `key` before the first dot."""
    import uuid

    try:
        return str(uuid.UUID(text.split(".", 1)[0]))
    except ValueError:
        raise argparse.ArgumentTypeError("give the link's id (the part of its key before the first dot)") from None


def revoke(args: argparse.Namespace) -> int:
    ended = int(wiring.rpc().rpc("revoke_report_links", p_id=args.link))
    which = "that link" if args.link else "every report link in force"
    print(f"report: {ended} link(s) ended ({which}); `atelier report link` makes a new one")
    return 0


def register(verbs: Any) -> None:
    help_text = "the owner's report for a period: headline figures and every table; --xlsx/--pdf write the exports"
    parser = verbs.add_parser(
        "report",
        help=help_text,
        description=help_text,
        epilog="examples: atelier report --period last-month --pdf report.pdf\n"
        "          atelier report link --hours 48\n\n"
        "exit codes: 0 ok, 1 findings, 2 could not run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=show_report)
    parser.add_argument("--period", default="month", help=HELP + " (default: month)")
    parser.add_argument("--xlsx", metavar="FILE", help="also write the Excel workbook here")
    parser.add_argument("--pdf", metavar="FILE", help="also write the PDF here")
    parser.add_argument("--network", action="store_true", help="every business's figures side by side, and the sums")
    actions = parser.add_subparsers(dest="report_verb", required=False, metavar="ACTION")
    made = verb(
        actions,
        "link",
        link,
        help="print a signed link to the report page (last line), good for --hours",
        example="atelier report link --hours 48",
    )
    made.add_argument("--hours", type=float, default=DEFAULT_HOURS, help=f"how long it works (default {DEFAULT_HOURS})")
    made.add_argument("--period", default=None, help="open it on this period (" + HELP + ")")
    ended = verb(
        actions,
        "revoke",
        revoke,
        help="end report links before they expire: every one in force, or one by its id (the first part of its key)",
        example="atelier report revoke",
    )
    ended.add_argument("link", nargs="?", type=_link_id, default=None, help="one link's id (default: all of them)")
