"""Command-line interface: python -m calibration COMMAND [options]."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path

from calibration import access, settings
from calibration.data.report import KINDS
from calibration.store.core import StoreError
from calibration.store.options import EXIT_MISSING, add_db, add_server, existing_db, open_db

# Features are imported inside the commands that use them (here and in each feature's CLI):
# `--help` and the --server forms start in a fraction of a second, not after two seconds of
# pandas, scipy and statsmodels they do not need.


def cmd_init(args: argparse.Namespace) -> int:
    from calibration.demo import workshop as demo

    con = open_db(args)
    for line in demo.init_database(con.cursor()):
        print(line)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from calibration.demo import workshop as demo

    con = open_db(args)
    for line in demo.load_demo(con.cursor()):
        print(line)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from calibration.accounts import auth
    from calibration.data import importer

    con = open_db(args)
    try:
        result = importer.import_file(
            con.cursor(),
            auth.SYSTEM,
            args.kind,
            args.file,
            args.sheet,
            cumulative=args.cumulative,
        )
    except importer.ImportRejected as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    print(result.summary())
    if args.kind == "actuals" and result.source_id:
        # New actuals: tracked cycles raise their alerts now, not at the next page visit.
        from calibration.tracking import service as tracking_service

        for ev in tracking_service.evaluate_all(con.cursor(), auth.SYSTEM):
            print(f"tracking as of {ev.as_of}: {ev.recorded} new event(s)")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from calibration.accounts import auth

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat password: "):
            print("passwords differ", file=sys.stderr)
            return 2
    con = open_db(args)
    try:
        user = auth.add_user(
            con.cursor(),
            auth.SYSTEM,
            args.name,
            args.role,
            password,
            args.region,
            args.display_name,
        )
    except auth.AuthError as exc:
        from calibration.i18n import t

        print(t(exc.key, "en", **exc.values), file=sys.stderr)
        return 2
    print(
        f"added {user.username} ({user.role}{': ' + ', '.join(sorted(user.regions)) if user.regions else ''})"
    )
    return 0


def cmd_user_email(args: argparse.Namespace) -> int:
    from calibration.accounts import auth, sso
    from calibration.i18n import t

    con = open_db(args)
    try:
        email = sso.set_email(con.cursor(), auth.SYSTEM, args.name, args.email)
    except auth.AuthError as exc:
        print(t(exc.key, "en", **exc.values), file=sys.stderr)
        return 2
    print(f"{args.name}: sign-in email {email or '(none)'}")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from calibration.store import users as uq

    con = open_db(args)
    rows = uq.list_users(con.cursor())
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            print(f"{r['username']:<20} {r['role']:<10} {','.join(r['regions'])}")
    return 0


# Exit codes of backup, restore and audit verify (documented in the README).


def cmd_backup(args: argparse.Namespace) -> int:
    from calibration.store import backup, connect

    path = existing_db(args)
    if path is None:
        return EXIT_MISSING
    con = connect(path)
    manifest = backup.backup(con, args.out)
    total = sum(manifest["tables"].values())
    print(f"backup written to {args.out}: {len(manifest['tables'])} tables, {total} rows")
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    from calibration.accounts import retention
    from calibration.store import connect

    days = args.days if args.days is not None else settings.retention_days()
    if days < 1:
        print(
            "prune: keep at least one day (--days N); CALIBRATE_RETENTION_DAYS=0 keeps everything",
            file=sys.stderr,
        )
        return 2
    path = existing_db(args)
    if path is None:
        return EXIT_MISSING
    con = connect(path)
    counts = retention.prune(con.cursor(), days, dry_run=args.dry_run)
    verb = "would forget" if args.dry_run else "forgot"
    listed = ", ".join(f"{table} {n:,}" for table, n in counts.items())
    print(f"{verb} access records older than {days} days: {listed}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from calibration.store import backup

    target = Path(args.db or settings.db_path())
    try:
        counts = backup.restore(args.source, target, args.key_file)
    except backup.BackupMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_MISSING
    print(f"restored {sum(counts.values())} rows in {len(counts)} tables into {target}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, including feature modules' subcommands."""
    parser = argparse.ArgumentParser(prog="python -m calibration", description="Calibrate CLI")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create the database; load the demo if it is empty")
    add_db(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo", help="load the demo workshop")
    add_db(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", help="import a history, signals, regions or actuals file")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("file")
    p.add_argument("--sheet", default=None, help="XLSX sheet name (default: the first)")
    p.add_argument(
        "--cumulative", action="store_true", help="actuals are running totals, not daily values"
    )
    add_db(p)
    add_server(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("user", help="manage accounts")
    usub = p.add_subparsers(dest="user_command", required=True)
    pa = usub.add_parser("add", help="add an account")
    pa.add_argument("name")
    pa.add_argument("--role", required=True, choices=access.ROLES)
    pa.add_argument("--region", action="append", default=[], help="region a lead leads (repeat)")
    pa.add_argument("--display-name", default=None)
    pa.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add_db(pa)
    pa.set_defaults(func=cmd_user_add)
    pe = usub.add_parser("email", help="set the email an account is matched by at single sign-on")
    pe.add_argument("name")
    pe.add_argument("email", nargs="?", default="", help="leave out to remove the email")
    add_db(pe)
    pe.set_defaults(func=cmd_user_email)
    pl = usub.add_parser("list", help="list accounts")
    pl.add_argument("--json", action="store_true")
    add_db(pl)
    pl.set_defaults(func=cmd_user_list)

    p = sub.add_parser("backup", help="write the whole database to a new folder")
    p.add_argument("--out", required=True, type=Path)
    add_db(p)
    add_server(p)
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "prune", help="forget access records (API calls, sign-ins, sessions) older than N days"
    )
    p.add_argument("--days", type=int, default=None, help="default: CALIBRATE_RETENTION_DAYS")
    p.add_argument("--dry-run", action="store_true", help="only count what would be forgotten")
    add_db(p)
    p.set_defaults(func=cmd_prune)

    p = sub.add_parser("restore", help="load a backup folder into a new database file")
    p.add_argument("source", type=Path, help="the backup folder")
    p.add_argument(
        "--key-file",
        type=Path,
        default=None,
        help="audit key file of the database the backup was made from (DB.audit-key)",
    )
    add_db(p)
    p.set_defaults(func=cmd_restore)

    # Each feature adds its own subcommands, in this order (imported here: the feature
    # CLIs import add_db/open_db from this module).
    from calibration.api import cli as api_cli
    from calibration.letters import cli as letters_cli
    from calibration.modeling import cli as modeling_cli
    from calibration.negotiation import cli as negotiation_cli
    from calibration.notify import cli as notify_cli
    from calibration.tracking import cli as tracking_cli

    modeling_cli.register(sub)
    negotiation_cli.register(sub)
    tracking_cli.register(sub)
    letters_cli.register(sub)
    api_cli.register(sub)
    notify_cli.register(sub)
    return parser


def _remote(func: Callable[[argparse.Namespace], int]):
    """The --server form of a command (None for commands that only work on the file)."""
    from calibration.api import cli as api_cli
    from calibration.negotiation import cli as negotiation_cli

    return {
        cmd_import: api_cli.remote_import,
        cmd_backup: api_cli.remote_backup,
        negotiation_cli.cmd_cycles: api_cli.remote_cycles,
        negotiation_cli.cmd_export: api_cli.remote_export,
        negotiation_cli.cmd_verify: api_cli.remote_verify,
    }.get(func)


# Said after "in use by another program": the way to work beside a running server.
HELD_HINT = (
    "To work while the server runs, go through it: --server URL --token TOKEN "
    "(or CALIBRATE_SERVER and CALIBRATE_TOKEN) for import, backup, cycles, audit verify "
    "and audit export."
)


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    server = None
    if hasattr(args, "server"):
        # --server wins; $CALIBRATE_SERVER applies unless a --db names a file explicitly.
        server = args.server or (None if args.db else settings.api_server())
    remote = _remote(func) if server else None
    if remote is not None:
        from calibration.api import cli as api_cli

        return api_cli.run_remote(remote, args, server)
    try:
        return func(args)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if "in use by another program" in str(exc) and _remote(func) is not None:
            print(HELD_HINT, file=sys.stderr)
        return 3
    except PermissionError as exc:
        print(f"not allowed: {exc}", file=sys.stderr)
        return 4
