"""The demo's feature steps, run for real on a small demo: the open cycle, the closed one."""

from __future__ import annotations

from calibration.accounts.auth import SYSTEM
from calibration.demo import workshop as demo
from calibration.letters import demo as letters_demo
from calibration.negotiation import demo as negotiation_demo
from calibration.negotiation import service as neg
from calibration.tracking import service as ts


def test_demo_seeds_open_and_closed_cycles_in_order(cur, small_demo, monkeypatch):
    monkeypatch.setenv("CALIBRATE_DEMO_DIR", str(small_demo))
    lines = demo.load_demo(cur)
    assert [line for line in lines if line.startswith("demo step:")] == [
        "demo step: negotiation: open 2026Q1 new_customers cycle with proposals and comments",
        "demo step: letters: completed 2025Q4 new_customers cycle, every letter signed",
        "demo step: tracking: demo actuals imported, tracked cycles evaluated as of the last "
        "actual day",
    ]
    cycles = {str(c["period"]): c for c in neg.list_cycles(cur)}
    assert set(cycles) == {negotiation_demo.PERIOD, letters_demo.PERIOD}

    # Negotiation's step: an open cycle on a real saved model run, East flagged for HR.
    cycle = cycles[negotiation_demo.PERIOD]
    assert (cycle["status"], cycle["metric"], cycle["company_target"]) == (
        "open",
        "new_customers",
        1200.0,
    )
    assert cycle["run_id"] is not None
    state = neg.cycle_state(cur, cycle["id"]).set_index("region")
    assert state.loc["east", "status"] == "flagged"
    assert state.loc["south", "status"] == "proposed"
    assert len(neg.thread(cur, SYSTEM, cycle["id"], "east")) == 2

    # Letters' step closes its quarter; tracking's step, which runs after it, records
    # which of East's promised items were delivered.
    closed = cycles[letters_demo.PERIOD]
    assert closed["status"] == "closed"
    delivery = ts.commitment_status(cur, int(closed["id"])).set_index("item")["status"]
    items = [i["description"] for i in letters_demo.PROPOSALS["lead_east"][3]]
    assert (delivery[items[0]], delivery[items[1]]) == ("delivered", "not_delivered")
    assert neg.verify_chain(cur).ok


def test_cli_init_seeds_once(demo_db, capsys):
    """`python -m calibration init` (what the browser tests' template is: init_database on an
    empty file) leaves an initialised database alone."""
    from calibration.cli import main as cli_main

    assert cli_main(["init", "--db", str(demo_db)]) == 0
    assert "database already initialised" in capsys.readouterr().out
