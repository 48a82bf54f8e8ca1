"""Letters: each region's consensus letter for the chosen cycle, signing, downloads, export.

Thin: every read and write goes through calibration.letters.service. PDFs are rendered when a
download is clicked (deferred download data), and archived before they are handed out.
"""

import streamlit as st

from calibration.letters import service as lt
from calibration.negotiation import service as neg
from ui import context as ctx
from ui import flash, letters_sign, letters_view
from ui.text import plain

user = ctx.require_user("letters")
cur = ctx.cursor()
con = ctx.connection()
lang = ctx.lang()

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
        names = ", ".join(plain(c["name"]) for c in others)
        st.caption(ctx.tr("letters.page.other_cycles", names=names))
    st.stop()

rows = lt.cycle_letters(cur, user, cycle_id)
flash.show(letters_sign.SLOT)
# Opening the page only reads; letters the lock did not issue (a cycle locked before
# letters were issued at lock) are issued by this explicit action.
letters_sign.issue(cur, user, cycle_id)
if not rows:
    st.info(ctx.tr("letters.page.none"))
    st.stop()

letters_view.overview(rows, lang)
letters_sign.sign_all(cur, user, cycle_id, rows, lang)

by_region = {r.region: r for r in rows}
# Labels are computed now, in the session's language.
region_labels = {r: letters_view.label(letter, lang) for r, letter in by_region.items()}
region = st.selectbox(
    ctx.tr("letters.page.region"),
    list(by_region),
    format_func=region_labels.get,
    key="letters_region",
)
letter = by_region[region]

left, right = st.columns([3, 2], gap="large")
with left:
    letters_view.preview(letter, lang)
with right:
    letters_sign.signatures(cur, user, cycle_id, letter)
    letters_sign.downloads(con, user, cycle_id, letter, lang)

letters_view.history(lt.letter_history(cur, user, cycle_id, region))
