"""Tracking page tables: ranking by shortfall, escalation events, forecast value added."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd
import streamlit as st

from calibration.accounts import directory
from calibration.accounts.auth import User
from calibration.tracking import service as tracking_service
from ui import context as ctx
from ui import tables

Label = Callable[[str], str]


def ranking(snap: pd.DataFrame, label: Label) -> None:
    """Regions by projected shortfall, worst first (the snapshot's order)."""
    st.subheader(ctx.tr("tracking.ranking"))
    table = pd.DataFrame(
        {
            ctx.tr("tracking.col.region"): snap["region"].map(label),
            ctx.tr("tracking.field.status"): snap["status"].map(
                lambda s: ctx.tr(f"tracking.status.{s}")
            ),
            ctx.tr("tracking.field.pace"): snap["pace"],
            ctx.tr("tracking.kpi.target"): snap["target"],
            ctx.tr("tracking.field.actual_to_date"): snap["actual_to_date"],
            ctx.tr("tracking.field.projected"): snap["projected"],
            ctx.tr("tracking.col.shortfall"): snap["shortfall"],
            ctx.tr("tracking.col.warning"): snap["warning"].map(
                lambda w: ctx.tr("tracking.warning.yes") if w else ""
            ),
            ctx.tr("tracking.col.escalation"): snap["escalation"].map(
                lambda k: ctx.tr(f"tracking.kind.{k}") if k else ""
            ),
            ctx.tr("tracking.col.support"): snap["support_note"],
        }
    )
    tables.show(table, None, percent=[ctx.tr("tracking.field.pace")])


def events(events: pd.DataFrame, lang: str, label: Label, empty_note: str) -> None:
    """The cycle's warnings and escalations with their root causes (typed text stays cells).

    empty_note: the key of what to say when there are none (tracking_service.events_note).
    """
    st.subheader(ctx.tr("tracking.events"))
    if events.empty:
        st.caption(ctx.tr(empty_note))
        return
    tables.show(
        pd.DataFrame(
            {
                ctx.tr("tracking.col.day"): pd.to_datetime(events["triggered_on"]).dt.strftime(
                    "%Y-%m-%d"
                ),
                ctx.tr("tracking.col.region"): events["region"].map(label),
                ctx.tr("tracking.col.event"): [
                    tracking_service.describe_event(r, lang, label(r["region"]))
                    for r in events.to_dict("records")
                ],
                ctx.tr("tracking.col.root_cause"): [
                    f"{ctx.tr(f'tracking.root_cause.{c}')}: {x}" if isinstance(c, str) else ""
                    for c, x in zip(events["root_cause"], events["root_cause_text"], strict=True)
                ],
            }
        ),
        None,
    )


def commitments_table(commitments: pd.DataFrame, label: Label) -> None:
    """Promised support and its delivery, read-only (for everyone but the deciders)."""
    tables.show(
        pd.DataFrame(
            {
                ctx.tr("tracking.col.region"): commitments["region"].map(label),
                ctx.tr("tracking.col.item"): commitments["item"],
                ctx.tr("tracking.field.status"): commitments["status"].map(
                    lambda s: ctx.tr(f"tracking.commitment.{s}")
                ),
                ctx.tr("tracking.col.note"): commitments["note"].fillna(""),
            }
        ),
        None,
    )


def fva(cur: duckdb.DuckDBPyConnection, user: User, cycle, label: Label, by_lead: bool) -> None:
    """Forecast value added after the period: table, exports, and (HQ) the leads' record."""
    st.subheader(ctx.tr("tracking.fva.title"))
    if not tracking_service.fva_ready(cur, cycle):
        st.caption(ctx.tr("tracking.fva.not_ready"))
        return
    st.caption(ctx.tr("tracking.fva.intro"))
    table = tracking_service.fva(cur, user, cycle)
    names = {
        "region": ctx.tr("tracking.col.region"),
        "lead": ctx.tr("tracking.col.lead"),
        "suggestion": ctx.tr("tracking.fva.suggestion"),
        "proposal": ctx.tr("tracking.fva.proposal"),
        "agreed": ctx.tr("tracking.fva.agreed"),
        "actual": ctx.tr("tracking.fva.actual"),
        "ape_suggestion": ctx.tr("tracking.fva.ape_suggestion"),
        "ape_proposal": ctx.tr("tracking.fva.ape_proposal"),
        "ape_agreed": ctx.tr("tracking.fva.ape_agreed"),
        "fva": ctx.tr("tracking.fva.fva"),
        "fva_proposal": ctx.tr("tracking.fva.fva_proposal"),
    }
    people = directory.display_names(cur, user, ctx.lang())

    def who(leads: str) -> str:
        return ", ".join(directory.person(people, u) for u in str(leads).split(", "))

    shown = table.assign(region=table["region"].map(label), lead=table["lead"].map(who))
    shown = shown.rename(columns=names)
    pct = [
        names[c] for c in ("ape_suggestion", "ape_proposal", "ape_agreed", "fva", "fva_proposal")
    ]
    tables.show(shown, None, percent=pct)
    _fva_downloads(cur, user, cycle)
    if by_lead:
        st.caption(ctx.tr("tracking.fva.by_lead"))
        leads = tracking_service.fva_leads(cur, user, cycle)
        lead_names = {c: ctx.tr(f"tracking.fva.col.{c}") for c in leads.columns}
        lead_names.update(lead=names["lead"], fva=names["fva"])
        lead_pct = [lead_names[c] for c in leads.columns if c.startswith(("mape", "wape", "fva"))]
        leads = leads.assign(lead=leads["lead"].map(who)).rename(columns=lead_names)
        tables.show(leads, None, percent=lead_pct, width="content")


def _fva_downloads(cur: duckdb.DuckDBPyConnection, user: User, cycle) -> None:
    """The FVA table as CSV and XLSX, and the leads' record as CSV."""
    d1, d2, d3 = st.columns(3)
    stem = f"fva_{cycle.period}"
    d1.download_button(
        ctx.tr("tracking.export_csv"),
        tracking_service.fva_export(cur, user, cycle, "csv"),
        f"{stem}.csv",
        "text/csv",
        key="fva_csv",
    )
    d2.download_button(
        ctx.tr("tracking.export_xlsx"),
        tracking_service.fva_export(cur, user, cycle, "xlsx"),
        f"{stem}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="fva_xlsx",
    )
    d3.download_button(
        ctx.tr("tracking.export_leads_csv"),
        tracking_service.fva_export(cur, user, cycle, "csv", by="lead"),
        f"{stem}_by_lead.csv",
        "text/csv",
        key="fva_leads_csv",
    )
