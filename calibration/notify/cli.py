"""python -m calibration notify send|status: one delivery pass, or the outbox's counts."""

from __future__ import annotations

import argparse

from calibration.store.options import add_db, open_db


def cmd_send(args: argparse.Namespace) -> int:
    """Route new notifications and send the deliveries that are due, once."""
    from calibration.notify import config, service

    company = config.company()
    if not company.configured:
        print("nothing to send: no SMTP server or robot webhook is configured")
        return 0
    result = service.run_pass(open_db(args), company)
    print(result.summary())
    for error in result.errors:
        print(f"  {error}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Deliveries per status and what is configured (no passwords or webhook URLs)."""
    from calibration.notify import config
    from calibration.store import notify as q

    cur = open_db(args).cursor()
    counts = {"pending": 0, "sent": 0, "failed": 0, **q.status_counts(cur)}
    print(", ".join(f"{k} {v}" for k, v in counts.items()))
    for channel, what in config.company().describe().items():
        print(f"{channel}: {what}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the notify command."""
    p = sub.add_parser("notify", help="deliver notifications by e-mail and group robots")
    nsub = p.add_subparsers(dest="notify_command", required=True)
    ps = nsub.add_parser("send", help="one pass: queue new notifications, send what is due")
    add_db(ps)
    ps.set_defaults(func=cmd_send)
    pt = nsub.add_parser("status", help="deliveries per status and the channels set up")
    add_db(pt)
    pt.set_defaults(func=cmd_status)
