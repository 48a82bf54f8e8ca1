"""Letters page pieces that only draw: overview table, one letter's preview, its history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calibration import numbers
from calibration.i18n import region_name
from calibration.letters import service as lt
from ui import context as ctx
from ui import tables
from ui.text import plain


def fmt(value: float | None, unit: str | None = None) -> str:
    """A number as people write it for the metric's unit (the PDF prints the same)."""
    return numbers.number(value, unit or None)


def label(letter: lt.Letter, lang: str) -> str:
    """The region's name in the session's language."""
    c = letter.content
    return region_name(c.region, c.region_name_en, c.region_name_zh, lang)


def signed_text(letter: lt.Letter, role: str) -> str:
    """Who signed in role and when, or a dash."""
    sig = letter.signature(role)
    return "—" if sig is None else f"{sig.name} · {sig.signed_at:%Y-%m-%d %H:%M}"


def overview(rows: list[lt.Letter], lang: str) -> None:
    """Counts by status and one line per region's letter."""
    counts = {status: sum(r.status == status for r in rows) for status in lt.STATUSES}
    m1, m2, m3 = st.columns(3)
    m1.metric(ctx.tr("letters.page.signed_count"), f"{counts['signed']} / {len(rows)}")
    m2.metric(ctx.tr("letters.page.lead_count"), counts["lead_signed"])
    m3.metric(ctx.tr("letters.page.unsigned_count"), counts["unsigned"])
    table = pd.DataFrame(
        {
            ctx.tr("letters.page.col_region"): [label(r, lang) for r in rows],
            ctx.tr("letters.page.col_agreed"): [
                fmt(r.content.agreed, r.content.metric_unit) for r in rows
            ],
            ctx.tr("letters.page.col_suggestion"): [
                fmt(r.content.suggestion, r.content.metric_unit) for r in rows
            ],
            ctx.tr("letters.page.col_version"): [fmt(r.version) for r in rows],
            ctx.tr("letters.page.col_status"): [ctx.tr(f"letters.status.{r.status}") for r in rows],
            ctx.tr("letters.page.col_lead"): [signed_text(r, "lead") for r in rows],
            ctx.tr("letters.page.col_exec"): [signed_text(r, "executive") for r in rows],
        }
    )
    tables.show(table, None, key="letters_overview")


def preview(letter: lt.Letter, lang: str) -> None:
    """The letter's content as the PDF will say it; typed text is shown as plain text."""
    c = letter.content
    st.subheader(f"{ctx.tr('letters.page.preview')}: {plain(label(letter, lang))} · {c.period}")
    k1, k2, k3 = st.columns(3)
    unit = c.metric_unit or None
    k1.metric(ctx.tr("letters.page.col_agreed"), fmt(c.agreed, unit))
    k2.metric(ctx.tr("letters.page.col_suggestion"), fmt(c.suggestion, unit))
    diff = c.agreed - c.suggestion
    share = f" ({numbers.percent(diff / c.suggestion, signed=True)})" if c.suggestion else ""
    k3.metric(ctx.tr("letters.page.diff"), f"{numbers.delta(diff, unit)}{share}")
    st.caption(
        ctx.tr(
            "letters.page.interval",
            lower=fmt(c.lower80, unit),
            upper=fmt(c.upper80, unit),
            run=c.model_run_id,
        )
    )
    st.markdown(f"**{ctx.tr('letters.section.justification')}**")
    # The letter's text as stored (signed); only our own bilingual mark is said in one language.
    mark = f"[{ctx.tr('role.executive')}]"
    st.text((c.justification or ctx.tr("letters.empty")).replace(lt.EXECUTIVE_MARK, mark))
    st.markdown(f"**{ctx.tr('letters.section.support')}**")
    if c.support:
        tables.show(
            pd.DataFrame(
                {
                    ctx.tr("letters.page.col_kind"): [
                        ctx.tr(f"letters.support.kind.{i.kind}") for i in c.support
                    ],
                    ctx.tr("letters.page.col_item"): [i.description for i in c.support],
                    ctx.tr("letters.page.col_amount"): [fmt(i.amount) for i in c.support],
                    ctx.tr("letters.page.col_owner"): [
                        ctx.tr(lt.OWNER_KEYS[i.owner]) if i.owner in lt.OWNER_KEYS else i.owner
                        for i in c.support
                    ],
                }
            ),
            None,
            key="letters_support",
        )
    else:
        st.caption(ctx.tr("letters.page.support_none"))
    st.markdown(f"**{ctx.tr('letters.section.risks')}**")
    st.text(c.risks or ctx.tr("letters.empty"))
    if c.hr_override:
        # The executive's typed reason: plain text, never markdown.
        st.text(ctx.tr("letters.hr_override", reason=c.hr_override))
    st.caption(ctx.tr("letters.page.hash", version=letter.version, sha=letter.content_sha256))
    if letter.previous_sha256:
        st.caption(
            ctx.tr(
                "letters.page.supersedes",
                sha=letter.previous_sha256[:16],
                reason=plain(letter.reason),
            )
        )


def history(history: list[lt.Letter]) -> None:
    """Earlier versions of the letter, when there are any."""
    if len(history) <= 1:
        return
    with st.expander(ctx.tr("letters.page.history")):
        tables.show(
            pd.DataFrame(
                {
                    ctx.tr("letters.page.col_version"): [fmt(h.version) for h in history],
                    ctx.tr("letters.page.col_status"): [
                        ctx.tr(f"letters.status.{h.status}") for h in history
                    ],
                    "SHA-256": [h.content_sha256[:16] for h in history],
                    ctx.tr("letters.page.col_lead"): [signed_text(h, "lead") for h in history],
                    ctx.tr("letters.page.col_exec"): [signed_text(h, "executive") for h in history],
                }
            ),
            None,
        )
