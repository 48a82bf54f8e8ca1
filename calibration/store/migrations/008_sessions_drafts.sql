-- Sign-in sessions behind the calibrate_session cookie. Only SHA-256 hashes of the cookie
-- token and of the one-time ticket that hands the token to the browser are stored.
-- token_hash stays NULL until the ticket is redeemed (the tab that signed in knows its
-- session by session_id, kept server side in its Streamlit session).
-- Bookkeeping, not decisions: last_seen_at is updated (at most once a minute) and a
-- revocation sets revoked_at/revoked_reason/revoked_by.
CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    token_hash TEXT,
    ticket_hash TEXT,
    ticket_expires_at TIMESTAMP,
    username TEXT NOT NULL,
    method TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    client_address TEXT,
    user_agent TEXT,
    lang TEXT,
    cycle_id INTEGER,
    revoked_at TIMESTAMP,
    revoked_reason TEXT,
    revoked_by TEXT
);
-- Half-typed forms, per person and form key (cycle, region, form); never shown to anyone
-- else, replaced on every change and deleted on a successful submit.
CREATE TABLE drafts (
    username TEXT NOT NULL,
    form_key TEXT NOT NULL,
    fields TEXT NOT NULL,
    seen_event BIGINT,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (username, form_key)
);
