"""A writer process for the crash test: submits proposals forever, printing ACK per commit."""

from __future__ import annotations

import sys
from itertools import count

from calibration.accounts import auth
from calibration.negotiation import service as negotiation
from calibration.store import connect


def main(db: str, cycle_id: int) -> None:
    con = connect(db)
    cur = con.cursor()
    state = negotiation.cycle_state(cur, cycle_id)
    last = {
        r: (None if e != e else int(e))
        for r, e in zip(state["region"], state["last_event_id"], strict=True)
    }
    leads = {r: auth.load_user(cur, f"lead_{r}") for r in last}
    base = dict(zip(state["region"], state["suggestion"], strict=True))
    for i in count():
        region = list(last)[i % len(last)]
        event_id = negotiation.propose(
            cur,
            leads[region],
            cycle_id,
            region,
            round(base[region] * 1.01 + i % 5),
            f"Revision {i}: pipeline review with the team this week",
            "one more SDR",
            "a renewal may slip",
            "medium",
            expected_last_event=last[region],
        )
        last[region] = event_id
        print(f"ACK {event_id}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
