"""The --db option every command takes, and opening the database it names."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from calibration import settings
from calibration.store.core import connect

EXIT_MISSING = 2  # the database, backup folder, manifest or key file does not exist
EXIT_REFUSED = 3  # refused: damaged or forged backup, target exists, no audit key


def add_db(p: argparse.ArgumentParser) -> None:
    """The --db option every command takes."""
    p.add_argument("--db", default=None, help="database file (default: $CALIBRATE_DB)")


def add_server(p: argparse.ArgumentParser) -> None:
    """--server and --token: run the command through a running server's HTTP API."""
    p.add_argument(
        "--server",
        default=None,
        help="URL of a running Calibrate server to go through (default: $CALIBRATE_SERVER)",
    )
    p.add_argument(
        "--token", default=None, help="API token for --server (default: $CALIBRATE_TOKEN)"
    )


def open_db(args: argparse.Namespace):
    """Connection to the database named by --db or the setting."""
    return connect(args.db or settings.db_path())


def existing_db(args: argparse.Namespace) -> Path | None:
    """The database file named by --db or the setting, or None (message printed) if missing."""
    path = Path(args.db or settings.db_path())
    if not path.is_file():
        print(f"error: the database {path} does not exist", file=sys.stderr)
        return None
    return path
