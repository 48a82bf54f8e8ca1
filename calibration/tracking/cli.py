"""CLI for tracking: python -m calibration tracking evaluate|inbox."""

from __future__ import annotations

import argparse
import sys
from datetime import date


def cmd_evaluate(args: argparse.Namespace) -> int:
    from calibration.accounts import auth
    from calibration.store.options import open_db
    from calibration.tracking import service as ts

    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        print(f"error: --as-of must be YYYY-MM-DD, not {args.as_of!r}", file=sys.stderr)
        return 2
    if as_of is not None and args.cycle is None:
        print("error: --as-of needs --cycle", file=sys.stderr)
        return 2
    cur = open_db(args).cursor()
    if args.cycle is None:
        # Every locked or tracking cycle, as after an import of actuals.
        results = ts.evaluate_all(cur, auth.SYSTEM)
        if not results:
            print("no locked or tracking cycle to evaluate")
    else:
        try:
            cycle = ts.lookup_cycle(cur, args.cycle)
        except LookupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        results = [ts.evaluate(cur, auth.SYSTEM, cycle, as_of)]
    for result in results:
        print(
            f"as of {result.as_of}: {result.recorded} new event(s),"
            f" {result.notifications} notification(s)"
        )
        for e in result.events:
            print(f"  {e['triggered_on']} {e['region']:<12} {e['kind']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `tracking` command."""
    from calibration.store.options import add_db

    p = sub.add_parser("tracking", help="tracking after lock")
    tsub = p.add_subparsers(dest="tracking_command", required=True)
    pe = tsub.add_parser("evaluate", help="record new escalations, alerts and warnings")
    pe.add_argument("--cycle", type=int, default=None, help="one cycle (default: every live one)")
    pe.add_argument("--as-of", default=None, help="YYYY-MM-DD (default: last actual day)")
    add_db(pe)
    pe.set_defaults(func=cmd_evaluate)
