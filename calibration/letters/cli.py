"""CLI for consensus letters: write a cycle's PDFs, verify a PDF, export agreed targets.

python -m calibration letters --db PATH --cycle ID --out DIR
python -m calibration letters verify FILE.pdf --db PATH
python -m calibration letters export --db PATH --cycle ID --format csv|json --out FILE
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def _open(args: argparse.Namespace, db: str | None):
    from calibration.store.options import open_db

    args.db = db
    return open_db(args)


def cmd_write(args: argparse.Namespace) -> int:
    """Issue (if due), archive and write every letter of a cycle, both languages."""
    from calibration.accounts import auth
    from calibration.letters import service as lt

    if args.cycle is None or args.out is None:
        print(
            "letters: --cycle and --out are required (or use: letters verify FILE.pdf)",
            file=sys.stderr,
        )
        return 2
    con = _open(args, args.db)
    try:
        files = lt.archive_cycle(con.cursor(), auth.SYSTEM, args.cycle)
    except lt.neg.NegotiationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for f in files:
        (out / f.file_name).write_bytes(f.data)
        state = {0: "unsigned draft", 1: "signed by the lead", 2: "fully signed"}[f.signatures]
        print(f"{f.file_name}  {state}  sha256 {f.file_sha256}")
    print(f"wrote {len(files)} letters to {out}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Exit 0 when the file is exactly an archived letter, 1 otherwise."""
    from calibration.letters import service as lt

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 2
    con = _open(args, args.verify_db or args.db)
    # pypdf complains on stderr about damaged files; the verdict below says it plainly.
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    result = lt.verify_file(con.cursor(), data)
    print(result.describe(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    """Write a locked cycle's agreed targets as CSV or JSON."""
    from calibration.accounts import auth
    from calibration.letters import service as lt

    con = _open(args, args.export_db or args.db)
    cycle = args.export_cycle if args.export_cycle is not None else args.cycle
    if cycle is None:
        print("letters export: --cycle is required", file=sys.stderr)
        return 2
    try:
        data = lt.export_targets(con.cursor(), auth.SYSTEM, cycle, args.format)
    except lt.neg.NegotiationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    Path(args.export_out).write_bytes(data)
    print(f"wrote {args.export_out} ({len(data)} bytes)")
    return 0


def register(subparsers) -> None:
    """Add `letters` (write PDFs) with its optional `verify` and `export` subcommands."""
    p = subparsers.add_parser(
        "letters",
        help="write a cycle's consensus letters; verify or export",
        description="Without a subcommand: issue, archive and write a cycle's letters "
        "(--cycle, --out). `letters verify FILE.pdf` checks a file against the "
        "archive; `letters export` writes the agreed targets.",
    )
    # The parent and each subcommand take --db; separate dests keep a subcommand's
    # default from overwriting a value given before the subcommand name.
    p.add_argument("--db", default=None, help="database file (default: $CALIBRATE_DB)")
    p.add_argument("--cycle", type=int, default=None, help="cycle id")
    p.add_argument("--out", default=None, help="folder to write the PDFs to")
    p.set_defaults(func=cmd_write)
    sub = p.add_subparsers(dest="letters_command", required=False)
    pv = sub.add_parser("verify", help="check a PDF against the archived letters")
    pv.add_argument("file", help="the PDF to check")
    pv.add_argument("--db", dest="verify_db", default=None, help="database file")
    pv.set_defaults(func=cmd_verify)
    pe = sub.add_parser("export", help="agreed targets as CSV or JSON for goal tools")
    pe.add_argument("--db", dest="export_db", default=None, help="database file")
    pe.add_argument("--cycle", dest="export_cycle", type=int, default=None, help="cycle id")
    pe.add_argument("--format", choices=("csv", "json"), default="csv")
    pe.add_argument("--out", dest="export_out", required=True, help="file to write")
    pe.set_defaults(func=cmd_export)
