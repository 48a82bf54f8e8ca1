"""Letters: each region's consensus letter for the chosen cycle, signing, downloads, export.

Thin: every read and write goes through calibration.letters.service. PDFs are rendered when a
download is clicked (deferred download data), and archived before they are handed out.
"""

import pandas as pd
import streamlit as st

from calibration.accounts import auth
from calibration.i18n import region_name
from calibration.letters import service as lt
from calibration.negotiation import service as neg
from ui import context as ctx
from ui.text import plain

user = ctx.require_user("letters")
cur = ctx.cursor()
con = ctx.connection()
lang = ctx.lang()
ss = st.session_state


def fmt(value: float | None) -> str:
    """A number for display."""
    return "—" if value is None else f"{value:,.0f}"


def label(letter: lt.Letter) -> str:
    """The region's name in the session's language."""
    c = letter.content
    return region_name(c.region, c.region_name_en, c.region_name_zh, lang)


def signed_text(letter: lt.Letter, role: str) -> str:
    """Who signed in role and when, or a dash."""
    sig = letter.signature(role)
    return "—" if sig is None else f"{sig.name} · {sig.signed_at:%Y-%m-%d %H:%M}"


st.title(ctx.tr("letters.page.title"))
st.caption(ctx.tr("letters.page.intro"))

cycle_id = ctx.current_cycle() or neg.default_cycle_id(cur)
if cycle_id is None:
    st.info(ctx.tr("letters.page.no_cycle"))
    st.stop()
cycle = neg.get_cycle(cur, cycle_id)
if not lt.is_issuable(cur, cycle_id):
    st.info(
        ctx.tr("letters.page.not_locked", status=ctx.tr(f"nego.status.{cycle['status']}")),
        icon=":material/lock_open:",
    )
    others = lt.letter_cycles(cur)
    if others:
        st.caption(ctx.tr("letters.page.other_cycles", names=", ".join(plain(c["name"]) for c in others)))
    st.stop()

rows = lt.cycle_letters(cur, user, cycle_id)
notice = ss.pop("letters_notice", None)
if notice:
    st.success(ctx.tr(notice), icon=":material/verified:")
# Opening the page only reads; letters the lock did not issue (a cycle locked before
# letters were issued at lock) are issued by this explicit action.
if lt.may_issue_any(cur, user, cycle_id):
    st.caption(ctx.tr("letters.page.issue_help"))
    if st.button(ctx.tr("letters.page.issue"), key="letters_issue"):
        try:
            lt.issue_letters(cur, user, cycle_id)
        except (neg.NegotiationError, PermissionError) as exc:
            ctx.show_error(exc)
        else:
            ss["letters_notice"] = "letters.page.issued"
            st.rerun()
if not rows:
    st.info(ctx.tr("letters.page.none"))
    st.stop()

counts = {status: sum(r.status == status for r in rows) for status in lt.STATUSES}
m1, m2, m3 = st.columns(3)
m1.metric(ctx.tr("letters.page.signed_count"), f"{counts['signed']} / {len(rows)}")
m2.metric(ctx.tr("letters.page.lead_count"), counts["lead_signed"])
m3.metric(ctx.tr("letters.page.unsigned_count"), counts["unsigned"])

overview = pd.DataFrame(
    {
        ctx.tr("letters.page.col_region"): [label(r) for r in rows],
        ctx.tr("letters.page.col_agreed"): [r.content.agreed for r in rows],
        ctx.tr("letters.page.col_suggestion"): [round(r.content.suggestion, 1) for r in rows],
        ctx.tr("letters.page.col_version"): [r.version for r in rows],
        ctx.tr("letters.page.col_status"): [ctx.tr(f"letters.status.{r.status}") for r in rows],
        ctx.tr("letters.page.col_lead"): [signed_text(r, "lead") for r in rows],
        ctx.tr("letters.page.col_exec"): [signed_text(r, "executive") for r in rows],
    }
)
st.dataframe(overview, hide_index=True, width="stretch", key="letters_overview")

due = [r for r in rows if lt.can_sign_now(user, r) and lt.signer_role(user, r) == "executive"]
if len(due) > 1:
    with st.expander(ctx.tr("letters.page.sign_all_title", count=len(due)), icon=":material/draw:"):
        with st.form("letters_sign_all", clear_on_submit=True, border=False):
            st.caption(
                ctx.tr("letters.page.sign_all_intro", regions=", ".join(plain(label(r)) for r in due))
            )
            batch_password = st.text_input(
                ctx.tr("letters.page.password"), type="password", key="letters_password_all"
            )
            sign_all = st.form_submit_button(ctx.tr("letters.page.sign_all"), type="primary")
        if sign_all:
            try:
                lt.sign_letters(cur, user, cycle_id, [r.region for r in due], batch_password,
                                expected={r.region: r.content_sha256 for r in due},
                                archive=False)  # PDFs are archived on download
            except (auth.AuthError, neg.NegotiationError, PermissionError) as exc:
                ctx.show_error(exc)
            else:
                ss["letters_notice"] = "letters.page.signed_all_ok"
                st.rerun()

by_region = {r.region: r for r in rows}
region = st.selectbox(
    ctx.tr("letters.page.region"),
    list(by_region),
    format_func=lambda r: label(by_region[r]),
    key="letters_region",
)
letter = by_region[region]
c = letter.content

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(f"{ctx.tr('letters.page.preview')}: {plain(label(letter))} · {c.period}")
    k1, k2, k3 = st.columns(3)
    k1.metric(ctx.tr("letters.page.col_agreed"), fmt(c.agreed))
    k2.metric(ctx.tr("letters.page.col_suggestion"), fmt(c.suggestion))
    diff = c.agreed - c.suggestion
    share = f" ({diff / c.suggestion:+.1%})" if c.suggestion else ""
    k3.metric(ctx.tr("letters.page.diff"), f"{diff:+,.0f}{share}")
    st.caption(
        ctx.tr("letters.page.interval", lower=fmt(c.lower80), upper=fmt(c.upper80),
               run=c.model_run_id)
    )
    st.markdown(f"**{ctx.tr('letters.section.justification')}**")
    st.text(c.justification or ctx.tr("letters.empty"))
    st.markdown(f"**{ctx.tr('letters.section.support')}**")
    if c.support:
        st.dataframe(
            pd.DataFrame(
                {
                    ctx.tr("letters.page.col_kind"): [
                        ctx.tr(f"letters.support.kind.{i.kind}") for i in c.support
                    ],
                    ctx.tr("letters.page.col_item"): [i.description for i in c.support],
                    ctx.tr("letters.page.col_amount"): [fmt(i.amount) for i in c.support],
                    ctx.tr("letters.page.col_owner"): [i.owner for i in c.support],
                }
            ),
            hide_index=True,
            width="stretch",
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
            ctx.tr("letters.page.supersedes", sha=letter.previous_sha256[:16], reason=plain(letter.reason))
        )

with right:
    st.subheader(ctx.tr("letters.section.signatures"))
    for role in ("lead", "executive"):
        sig = letter.signature(role)
        role_name = ctx.tr(f"letters.sig.{role}")
        if sig is None:
            st.markdown(f":material/radio_button_unchecked: {ctx.tr('letters.page.sig_pending', role=role_name)}")
        else:
            st.markdown(
                ":material/check_circle: "
                + ctx.tr("letters.page.sig_done", role=role_name, name=plain(sig.name),
                         when=f"{sig.signed_at:%Y-%m-%d %H:%M}")
            )
    if lt.can_sign_now(user, letter):
        role = lt.signer_role(user, letter)
        with st.form(f"letters_sign_{letter.letter_id}", clear_on_submit=True, border=True):
            st.markdown(f"**{ctx.tr('letters.page.sign_title')}**")
            st.caption(
                ctx.tr("letters.page.sign_intro", role=ctx.tr(f"letters.role.{role}"),
                       version=letter.version)
            )
            password = st.text_input(
                ctx.tr("letters.page.password"), type="password", key="letters_password"
            )
            submitted = st.form_submit_button(
                ctx.tr("letters.page.sign"), type="primary", icon=":material/draw:"
            )
        if submitted:
            try:
                lt.sign_letter(cur, user, cycle_id, region, password,
                               expected_sha256=letter.content_sha256)
            except (auth.AuthError, neg.NegotiationError, PermissionError) as exc:
                ctx.show_error(exc)
            else:
                ss["letters_notice"] = "letters.page.signed_ok"
                st.rerun()
    elif letter.status == "unsigned":
        st.info(ctx.tr("letters.page.wait_lead"), icon=":material/hourglass_top:")
    elif letter.status == "lead_signed":
        st.info(ctx.tr("letters.page.wait_exec"), icon=":material/hourglass_top:")
    else:
        st.success(ctx.tr("letters.page.complete"), icon=":material/verified:")

    st.subheader(ctx.tr("letters.page.download"))
    pdf_lang = st.radio(
        ctx.tr("letters.page.lang"), lt.LANGS, horizontal=True, key="letters_lang",
        format_func=lambda code: {"en": "English", "zh": "中文"}[code],
        index=lt.LANGS.index(lang) if lang in lt.LANGS else 0,
    )

    def pdf_data(region: str = region, pdf_lang: str = pdf_lang) -> bytes:
        """Render (or fetch) and archive the PDF when the button is clicked."""
        return lt.letter_file(con.cursor(), user, cycle_id, region, pdf_lang).data

    def zip_data() -> bytes:
        """Every visible letter, both languages, as one ZIP."""
        return lt.letters_zip(con.cursor(), user, cycle_id)

    st.download_button(
        ctx.tr("letters.page.pdf", language=pdf_lang), pdf_data,
        file_name=lt.file_name(letter, pdf_lang), mime="application/pdf",
        icon=":material/picture_as_pdf:", key="letters_pdf", on_click="ignore",
    )
    st.download_button(
        ctx.tr("letters.page.zip"), zip_data, file_name=f"letters-cycle{cycle_id}.zip",
        mime="application/zip", icon=":material/folder_zip:", key="letters_zip",
        on_click="ignore",
    )
    st.caption(ctx.tr("letters.page.verify_hint"))

    st.subheader(ctx.tr("letters.page.export"))

    def export_data(fmt: str) -> bytes:
        """Agreed targets for goal tools."""
        return lt.export_targets(con.cursor(), user, cycle_id, fmt)

    e1, e2 = st.columns(2)
    e1.download_button(
        ctx.tr("letters.page.export_csv"), lambda: export_data("csv"),
        file_name=f"targets-cycle{cycle_id}.csv", mime="text/csv", key="letters_csv",
        on_click="ignore", icon=":material/table:",
    )
    e2.download_button(
        ctx.tr("letters.page.export_json"), lambda: export_data("json"),
        file_name=f"targets-cycle{cycle_id}.json", mime="application/json",
        key="letters_json", on_click="ignore", icon=":material/data_object:",
    )

history = lt.letter_history(cur, user, cycle_id, region)
if len(history) > 1:
    with st.expander(ctx.tr("letters.page.history")):
        st.dataframe(
            pd.DataFrame(
                {
                    ctx.tr("letters.page.col_version"): [h.version for h in history],
                    ctx.tr("letters.page.col_status"): [
                        ctx.tr(f"letters.status.{h.status}") for h in history
                    ],
                    "SHA-256": [h.content_sha256[:16] for h in history],
                    ctx.tr("letters.page.col_lead"): [signed_text(h, "lead") for h in history],
                    ctx.tr("letters.page.col_exec"): [
                        signed_text(h, "executive") for h in history
                    ],
                }
            ),
            hide_index=True,
            width="stretch",
        )
