"""Notifications that reach people: e-mail and group robots fed from the inbox, an outbox
with retries and back-off, a worker (CLI pass and the server's background thread)."""
