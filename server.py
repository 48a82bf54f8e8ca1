"""The server: the Streamlit app (app.py) plus its HTTP routes; `streamlit run server.py`."""

from __future__ import annotations

import streamlit as st

from calibration.accounts import web as accounts_web
from calibration.api.routes import routes as api_routes

app = st.App(
    "app.py",
    routes=[*accounts_web.routes(), *api_routes()],
    middleware=accounts_web.middleware(),
)
