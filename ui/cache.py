"""Every st.cache_* of the app in one place; each key names what the value depends on
(cycle, data version, settings), so a change elsewhere can never serve a stale value."""

from __future__ import annotations
