"""A demo database whose every user-typed field carries hostile Markdown/HTML."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from calibration.accounts import auth
from calibration.negotiation import service as neg
from calibration.store import connect, transaction
from calibration.store import tracking as tq
from calibration.tracking import service as ts

HOSTILE = (
    "[click](http://evil.example) ![x](http://evil.example/i.png) :red[x] "
    "<img src=x onerror=alert(1)> **bold**"
)


def make_hostile(db: Path) -> None:
    """Region names, display names, cycle names and commitment notes set to HOSTILE; on the
    open cycle (1) East's proposal, a comment and a counter reason; on the tracked cycle (2)
    a level-2 escalation answered with a HOSTILE root cause (the executives' Inbox)."""
    con = connect(db)
    cur = con.cursor()
    # No service renames these; the pages must be checked with them hostile everywhere.
    with transaction(cur):
        cur.execute(
            "UPDATE regions SET name_en = region || ' ' || ?, name_zh = region || ?",
            [HOSTILE, HOSTILE],
        )
        cur.execute("UPDATE users SET display_name = username || ' ' || ?", [HOSTILE])
        cur.execute("UPDATE cycles SET name = CAST(cycle_id AS VARCHAR) || ' ' || ?", [HOSTILE])
        cur.execute("UPDATE commitment_events SET note = ?", [HOSTILE])
    lead = auth.load_user(cur, "lead_east")
    execu = auth.load_user(cur, "exec")
    state = neg.cycle_state(cur, 1)
    last = state.loc[state["region"] == "east", "last_event_id"].iloc[0]
    neg.propose(
        cur,
        lead,
        1,
        "east",
        10,
        justification=HOSTILE,
        support=HOSTILE,
        risk=HOSTILE,
        confidence="low",
        expected_last_event=None if pd.isna(last) else int(last),
    )
    neg.add_comment(cur, lead, 1, "east", HOSTILE)
    state = neg.cycle_state(cur, 1)
    last = int(state.loc[state["region"] == "east", "last_event_id"].iloc[0])
    neg.respond(
        cur,
        execu,
        1,
        "east",
        "counter",
        expected_last_event=last,
        counter_value=150,
        reason=HOSTILE,
    )
    with transaction(cur):
        eid = tq.insert_event(
            cur,
            2,
            "east",
            "escalation",
            2,
            dt.date(2025, 11, 20),
            "{}",
            dt.datetime(2025, 11, 20, 9),
            "system",
        )
    ts.submit_root_cause(cur, lead, eid, "other", HOSTILE)
    cur.execute("CHECKPOINT")
    con.close()
