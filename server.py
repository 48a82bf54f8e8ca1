"""The server: the Streamlit app (app.py) plus its HTTP routes; `streamlit run server.py`."""

from __future__ import annotations

import os

import streamlit as st

from calibration.accounts import sso
from calibration.accounts import web as accounts_web
from calibration.api.routes import routes as api_routes

app = st.App(
    "app.py",
    # Single sign-on from CALIBRATE_OIDC_* variables (None: off, or set in secrets.toml).
    secrets=sso.secrets_from_env(os.environ),
    routes=[*accounts_web.routes(), *api_routes()],
    middleware=accounts_web.middleware(),
)
