"""The server: the Streamlit app (app.py) plus its HTTP routes; `streamlit run server.py`."""

from __future__ import annotations

import os

import streamlit as st
from starlette.middleware import Middleware
from streamlit.runtime.pages_manager import PagesManager

from calibration.accounts import retention, sso
from calibration.accounts import web as accounts_web
from calibration.api.routes import routes as api_routes
from calibration.asset_cache import ImmutableAssetCache
from calibration.notify import worker as notify_worker
from ui import sso as ui_sso
from ui.context import connection

# app.py routes every page (st.navigation). Streamlit treats a `pages/` folder beside it as
# the old file-per-page layout until a script run calls st.navigation: the first run after a
# start that asks for a page (a bookmark, a tab reconnecting after a restart) ran that page's
# file alone, without the router, and the person saw a blank page. Streamlit has no setting
# for it; tests/browser/test_sessions.py's restart opens a bookmark first.
PagesManager.uses_pages_directory = False

app = st.App(
    "app.py",
    # Single sign-on from CALIBRATE_OIDC_* variables (None: off, or set in secrets.toml).
    secrets=sso.secrets_from_env(os.environ),
    # Sign-out of a single sign-on session also ends it at the provider (ui.sso).
    routes=[*accounts_web.routes(end_session=ui_sso.end_session_url), *api_routes()],
    # Streamlit's hashed front-end files from memory after their first request: a new
    # browser's ~90 files cost the event loop 0.3 s of CPU each time otherwise.
    middleware=[Middleware(ImmutableAssetCache), *accounts_web.middleware()],
    # The delivery worker sends e-mail and robot messages while the server runs, and the
    # housekeeper forgets old access records once a day; both use the process's one
    # connection, the same the pages use (ui.context.connection).
    lifespan=retention.lifespan(connection, notify_worker.lifespan(connection)),
)
