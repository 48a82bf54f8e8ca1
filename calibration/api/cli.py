"""CLI of the API: `token add|list|revoke`, and the commands that go through --server."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from calibration import access, settings
from calibration.api.client import Answer, Client, ClientError
from calibration.data import report
from calibration.i18n import t
from calibration.store import options as store_options

# Services are imported inside the commands (see calibration/cli.py): a --server command
# needs only the HTTP client and the report types.

# Exit codes as the local commands use them: 2 refused input, 3 server/database, 4 not allowed.
_EXIT = {400: 2, 401: 4, 403: 4, 404: 2, 405: 2, 409: 2, 413: 2, 422: 2}


# ---------------------------------------------------------------------------- tokens


def cmd_token_add(args: argparse.Namespace) -> int:
    from calibration.accounts import auth
    from calibration.api import tokens

    con = store_options.open_db(args)
    try:
        token = tokens.add_token(con.cursor(), auth.SYSTEM, args.name, args.scope)
    except tokens.TokenError as exc:
        print(t(exc.key, "en", **exc.values), file=sys.stderr)
        return 2
    # The only time the token is shown: only its hash is stored.
    print(token)
    print(f"token {args.name} added; copy it now, it is not shown again", file=sys.stderr)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    from calibration.accounts import auth
    from calibration.api import tokens

    con = store_options.open_db(args)
    frame = tokens.list_tokens(con.cursor(), auth.SYSTEM)
    rows = [
        {k: (None if v is None or v != v else str(v)) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        state = f"revoked {r['revoked_at']}" if r["revoked_at"] else "active"
        print(f"{r['name']:<24} {r['scopes']:<28} {state:<28} last used {r['last_used'] or '-'}")
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from calibration.accounts import auth
    from calibration.api import tokens

    con = store_options.open_db(args)
    try:
        tokens.revoke_token(con.cursor(), auth.SYSTEM, args.name)
    except tokens.TokenError as exc:
        print(t(exc.key, "en", **exc.values), file=sys.stderr)
        return 2
    print(f"token {args.name} revoked")
    return 0


def register(subparsers) -> None:
    """Add the token commands."""
    p = subparsers.add_parser("token", help="manage API tokens")
    tsub = p.add_subparsers(dest="token_command", required=True)
    pa = tsub.add_parser("add", help="add a token (printed once; only its hash is stored)")
    pa.add_argument("name")
    pa.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=access.TOKEN_SCOPES,
        help="what the token may do (repeat for several)",
    )
    store_options.add_db(pa)
    pa.set_defaults(func=cmd_token_add)
    pl = tsub.add_parser("list", help="list tokens (never the tokens themselves)")
    pl.add_argument("--json", action="store_true")
    store_options.add_db(pl)
    pl.set_defaults(func=cmd_token_list)
    pr = tsub.add_parser("revoke", help="revoke a token")
    pr.add_argument("name")
    store_options.add_db(pr)
    pr.set_defaults(func=cmd_token_revoke)


# ---------------------------------------------------------------------------- --server


def _refused(answer: Answer) -> int:
    print(f"error: {answer.message()}", file=sys.stderr)
    return _EXIT.get(answer.status, 3)


def remote_import(args: argparse.Namespace, api: Client) -> int:
    """`import` through the API: the same report and exit codes as the local command."""
    path = Path(args.file)
    if not path.is_file():
        print(
            report.ImportRejected(
                [report.Problem.of(path.name, None, None, "data.err.not_found")]
            ).report(),
            file=sys.stderr,
        )
        return 2
    answer = api.call(
        "POST",
        f"import/{args.kind}",
        {
            "cumulative": "1" if args.cumulative else "",
            "sheet": args.sheet or "",
            "filename": path.name,
        },
        path.read_bytes(),
    )
    if answer.status == 422:
        body = answer.json()
        problems = [report.Problem(**p) for p in body.get("problems", [])]
        print(report.ImportRejected(problems, body.get("total")).report(), file=sys.stderr)
        return 2
    if answer.status != 200:
        return _refused(answer)
    r = answer.json()
    result = report.ImportResult(
        r["kind"], r["file_name"], r["rows"], r["new"], r["updated"], r["source_id"]
    )
    print(result.summary())
    return 0


def remote_cycles(args: argparse.Namespace, api: Client) -> int:
    """`cycles` through the API."""
    from calibration.negotiation.cli import print_cycles

    answer = api.call("GET", "cycles")
    if answer.status != 200:
        return _refused(answer)
    print_cycles(answer.json()["cycles"], args.json)
    return 0


def remote_export(args: argparse.Namespace, api: Client) -> int:
    """`audit export` through the API."""
    from calibration.negotiation.cli import export_format

    out = Path(args.out)
    fmt = export_format(out)
    if fmt is None:
        return 2
    answer = api.call("GET", f"cycles/{int(args.cycle)}/decisions", {"format": fmt})
    if answer.status != 200:
        return _refused(answer)
    out.write_bytes(answer.body)
    print(f"wrote {out} ({len(answer.body)} bytes)")
    return 0


def remote_backup(args: argparse.Namespace, api: Client) -> int:
    """`backup` through the API: the server's online backup unpacked into --out."""
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        print(f"error: {out} is not empty; choose a new folder for the backup", file=sys.stderr)
        return 2
    answer = api.call("POST", "backup")
    if answer.status != 200:
        return _refused(answer)
    from calibration.api import service
    from calibration.store import backup

    try:
        service.extract_backup(answer.body, out)
    except (ValueError, OSError) as exc:
        print(f"error: the backup could not be unpacked: {exc}", file=sys.stderr)
        return 3
    manifest = backup.read_manifest(out)
    total = sum(manifest["tables"].values())
    print(f"backup written to {out}: {len(manifest['tables'])} tables, {total} rows")
    return 0


def remote_verify(args: argparse.Namespace, api: Client) -> int:
    """`audit verify` through the API (a --backup folder's anchor is read here, sent there)."""
    from calibration.store import backup

    anchors = [
        {"source": f"backup {folder}", **backup.manifest_anchor(Path(folder))}
        for folder in args.backup or []
    ]
    answer = api.call(
        "POST",
        "audit/verify",
        body=json.dumps({"anchors": anchors}).encode(),
        content_type="application/json",
    )
    if answer.status != 200:
        return _refused(answer)
    report = answer.json()
    if report["ok"]:
        print(f"OK, {report['events']} events")
        return 0
    for problem in report["problems"]:
        print(f"BROKEN: {problem}", file=sys.stderr)
    return 1


def run_remote(remote, args: argparse.Namespace, server: str) -> int:
    """Run a command's --server form; a network failure is exit 3 with a plain message."""
    token = args.token or settings.api_token()
    try:
        return remote(args, Client(server, token))
    except ClientError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
