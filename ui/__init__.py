"""Streamlit glue shared by app.py and the pages: connection, user, language, messages."""
