"""CLI for the negotiation feature: list cycles, verify and export the decision log."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# The services are imported inside the commands: `--help` and the --server forms of these
# commands start in a quarter of a second instead of two (pandas, scipy, statsmodels).


def _open(args: argparse.Namespace):
    from calibration.store.options import open_db

    return open_db(args)


def cmd_cycles(args: argparse.Namespace) -> int:
    """List cycles (id, metric, period, status, company_target)."""
    from calibration.negotiation import service as neg

    con = _open(args)
    print_cycles(neg.cycle_summaries(con.cursor()), args.json)
    return 0


def print_cycles(rows: list[dict], as_json: bool) -> None:
    """Print cycles as JSON or one line each (shared with the --server mode)."""
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            print(
                f"{r['id']:>4}  {r['metric']:<16} {r['period']:<8} {r['status']:<9} "
                f"{r['company_target']:>10g}  {r['name']}"
            )


def cmd_verify(args: argparse.Namespace) -> int:
    """Check the keyed chain, the sealed tables and every anchor; exit 1 naming each problem."""
    from calibration import events
    from calibration.store import backup
    from calibration.store.options import EXIT_MISSING, existing_db

    # Opening a missing file would create an empty database and report "OK, 0 events".
    if existing_db(args) is None:
        return EXIT_MISSING
    con = _open(args)
    anchors = []
    for folder in args.backup or []:
        anchors.append((f"backup {folder}", backup.manifest_anchor(Path(folder))))
    report = events.verify(con.cursor(), anchors)
    if report.ok:
        print(f"OK, {report.events} events")
        return 0
    for problem in report.problems:
        print(f"BROKEN: {problem}", file=sys.stderr)
    return 1


def cmd_rekey(args: argparse.Namespace) -> int:
    """Re-anchor a decision log written before the chain was keyed (once, explicitly)."""
    from calibration import events

    con = _open(args)
    try:
        done = events.rekey(con.cursor())
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"re-keyed: {done['legacy_events']} earlier events pinned, covered tables sealed")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write a cycle's decision log as CSV or XLSX (by the file's extension)."""
    from calibration.accounts import auth
    from calibration.negotiation import service as neg

    out = Path(args.out)
    fmt = export_format(out)
    if fmt is None:
        return 2
    con = _open(args)
    try:
        data = neg.export_log(con.cursor(), auth.SYSTEM, args.cycle, fmt)
    except neg.NegotiationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out.write_bytes(data)
    print(f"wrote {out} ({len(data)} bytes)")
    return 0


def export_format(out: Path) -> str | None:
    """csv or xlsx by the file's extension; None (said on stderr) for anything else."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        print("--out must end in .csv or .xlsx", file=sys.stderr)
        return None
    return fmt


def register(subparsers) -> None:
    """Add the cycles and audit commands."""
    from calibration.store.options import add_db, add_server

    p = subparsers.add_parser("cycles", help="list target-setting cycles")
    p.add_argument("--json", action="store_true")
    add_db(p)
    add_server(p)
    p.set_defaults(func=cmd_cycles)

    p = subparsers.add_parser("audit", help="check or export the decision log")
    asub = p.add_subparsers(dest="audit_command", required=True)
    pv = asub.add_parser(
        "verify", help="verify the keyed chain, sealed tables and anchors (exit 1 if broken)"
    )
    pv.add_argument(
        "--backup",
        action="append",
        type=Path,
        help="also compare against this backup folder's anchor (repeat)",
    )
    add_db(pv)
    add_server(pv)
    pv.set_defaults(func=cmd_verify)
    pr = asub.add_parser(
        "rekey", help="pin a log from before the keyed chain under the audit key (once)"
    )
    add_db(pr)
    pr.set_defaults(func=cmd_rekey)
    pe = asub.add_parser("export", help="export a cycle's decision log")
    pe.add_argument("--cycle", type=int, required=True)
    pe.add_argument("--out", required=True, help="FILE.csv or FILE.xlsx")
    add_db(pe)
    add_server(pe)
    pe.set_defaults(func=cmd_export)
