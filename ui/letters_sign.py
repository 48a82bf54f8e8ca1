"""Letters page actions: issuing, signing (one or all due), downloads and the targets export."""

from __future__ import annotations

import duckdb
import streamlit as st

from calibration.accounts import auth
from calibration.i18n import language_name
from calibration.letters import service as lt
from calibration.negotiation import service as neg
from ui import context as ctx
from ui import flash
from ui.letters_view import label
from ui.text import plain

SLOT = "letters"
REFUSED = (auth.AuthError, neg.NegotiationError, PermissionError)


def issue(cur: duckdb.DuckDBPyConnection, user: auth.User, cycle_id: int) -> None:
    """Issue the letters the lock did not (an explicit action; opening the page only reads)."""
    if not lt.may_issue_any(cur, user, cycle_id):
        return
    st.caption(ctx.tr("letters.page.issue_help"))
    if st.button(ctx.tr("letters.page.issue"), key="letters_issue"):
        try:
            lt.issue_letters(cur, user, cycle_id)
        except (neg.NegotiationError, PermissionError) as exc:
            ctx.show_error(exc)
        else:
            flash.success(SLOT, ctx.tr("letters.page.issued"))
            st.rerun()


def sign_all(
    cur: duckdb.DuckDBPyConnection, user: auth.User, cycle_id: int, rows: list[lt.Letter], lang: str
) -> None:
    """An executive signs every letter waiting for them with one password."""
    due = lt.due_for_executive(user, rows)
    if len(due) <= 1:
        return
    with st.expander(ctx.tr("letters.page.sign_all_title", count=len(due)), icon=":material/draw:"):
        with st.form("letters_sign_all", clear_on_submit=True, border=False):
            names = ", ".join(plain(label(r, lang)) for r in due)
            st.caption(ctx.tr("letters.page.sign_all_intro", regions=names))
            password = st.text_input(
                ctx.tr("letters.page.password"), type="password", key="letters_password_all"
            )
            submitted = st.form_submit_button(ctx.tr("letters.page.sign_all"), type="primary")
        if submitted:
            try:
                lt.sign_letters(
                    cur,
                    user,
                    cycle_id,
                    [r.region for r in due],
                    password,
                    expected={r.region: r.content_sha256 for r in due},
                    archive=False,  # PDFs are archived on download
                )
            except REFUSED as exc:
                ctx.show_error(exc)
            else:
                flash.success(SLOT, ctx.tr("letters.page.signed_all_ok"))
                st.rerun()


def signatures(
    cur: duckdb.DuckDBPyConnection, user: auth.User, cycle_id: int, letter: lt.Letter
) -> None:
    """Who signed, and the sign form when it is this person's turn."""
    st.subheader(ctx.tr("letters.section.signatures"))
    for role in ("lead", "executive"):
        sig = letter.signature(role)
        role_name = ctx.tr(f"letters.sig.{role}")
        if sig is None:
            pending = ctx.tr("letters.page.sig_pending", role=role_name)
            st.markdown(f":material/radio_button_unchecked: {pending}")
        else:
            done = ctx.tr(
                "letters.page.sig_done",
                role=role_name,
                name=plain(sig.name),
                when=f"{sig.signed_at:%Y-%m-%d %H:%M}",
            )
            st.markdown(":material/check_circle: " + done)
    if lt.can_sign_now(user, letter):
        _sign_form(cur, user, cycle_id, letter)
    elif letter.status == "unsigned":
        st.info(ctx.tr("letters.page.wait_lead"), icon=":material/hourglass_top:")
    elif letter.status == "lead_signed":
        st.info(ctx.tr("letters.page.wait_exec"), icon=":material/hourglass_top:")
    else:
        st.success(ctx.tr("letters.page.complete"), icon=":material/verified:")


def _sign_form(
    cur: duckdb.DuckDBPyConnection, user: auth.User, cycle_id: int, letter: lt.Letter
) -> None:
    """Sign this version of the letter with the person's password."""
    role = lt.signer_role(user, letter)
    with st.form(f"letters_sign_{letter.letter_id}", clear_on_submit=True, border=True):
        st.markdown(f"**{ctx.tr('letters.page.sign_title')}**")
        st.caption(
            ctx.tr(
                "letters.page.sign_intro",
                role=ctx.tr(f"letters.role.{role}"),
                version=letter.version,
            )
        )
        password = st.text_input(
            ctx.tr("letters.page.password"), type="password", key="letters_password"
        )
        submitted = st.form_submit_button(
            ctx.tr("letters.page.sign"), type="primary", icon=":material/draw:"
        )
    if submitted:
        try:
            lt.sign_letter(
                cur, user, cycle_id, letter.region, password, expected_sha256=letter.content_sha256
            )
        except REFUSED as exc:
            ctx.show_error(exc)
        else:
            flash.success(SLOT, ctx.tr("letters.page.signed_ok"))
            st.rerun()


def downloads(
    con: duckdb.DuckDBPyConnection, user: auth.User, cycle_id: int, letter: lt.Letter, lang: str
) -> None:
    """PDF (rendered and archived on click), all letters as ZIP, agreed targets export."""
    st.subheader(ctx.tr("letters.page.download"))
    pdf_lang = st.radio(
        ctx.tr("letters.page.lang"),
        lt.LANGS,
        horizontal=True,
        key="letters_lang",
        format_func=language_name,
        index=lt.LANGS.index(lang) if lang in lt.LANGS else 0,
    )
    region = letter.region

    def pdf_data() -> bytes:
        """Render (or fetch) and archive the PDF when the button is clicked."""
        return lt.letter_file(con.cursor(), user, cycle_id, region, pdf_lang).data

    def zip_data() -> bytes:
        """Every visible letter, both languages, as one ZIP."""
        return lt.letters_zip(con.cursor(), user, cycle_id)

    def export_data(fmt: str) -> bytes:
        """Agreed targets for goal tools."""
        return lt.export_targets(con.cursor(), user, cycle_id, fmt)

    st.download_button(
        ctx.tr("letters.page.pdf", language=language_name(pdf_lang)),
        pdf_data,
        file_name=lt.file_name(letter, pdf_lang),
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        key="letters_pdf",
        on_click="ignore",
    )
    st.download_button(
        ctx.tr("letters.page.zip"),
        zip_data,
        file_name=f"letters-cycle{cycle_id}.zip",
        mime="application/zip",
        icon=":material/folder_zip:",
        key="letters_zip",
        on_click="ignore",
    )
    st.caption(ctx.tr("letters.page.verify_hint"))
    st.subheader(ctx.tr("letters.page.export"))
    e1, e2 = st.columns(2)
    e1.download_button(
        ctx.tr("letters.page.export_csv"),
        lambda: export_data("csv"),
        file_name=f"targets-cycle{cycle_id}.csv",
        mime="text/csv",
        key="letters_csv",
        on_click="ignore",
        icon=":material/table:",
    )
    e2.download_button(
        ctx.tr("letters.page.export_json"),
        lambda: export_data("json"),
        file_name=f"targets-cycle{cycle_id}.json",
        mime="application/json",
        key="letters_json",
        on_click="ignore",
        icon=":material/data_object:",
    )
