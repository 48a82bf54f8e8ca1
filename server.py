"""The server: the Streamlit app (app.py) plus its HTTP routes; `streamlit run server.py`."""

from __future__ import annotations

import streamlit as st

from calibration.accounts import web as accounts_web
from calibration.api.routes import routes as api_routes
from calibration.notify import worker as notify_worker
from ui.context import connection

app = st.App(
    "app.py",
    routes=[*accounts_web.routes(), *api_routes()],
    middleware=accounts_web.middleware(),
    # The delivery worker sends e-mail and robot messages while the server runs; it uses
    # the process's one connection, the same the pages use (ui.context.connection).
    lifespan=notify_worker.lifespan(connection),
)
