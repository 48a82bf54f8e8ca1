-- Join links for a live session: single-use, expiring sign-in tokens bound to a lead and a cycle.
-- Only the SHA-256 of a token is stored; the token itself exists only in the link.
CREATE TABLE join_tokens (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    cycle_id INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX join_tokens_cycle ON join_tokens (cycle_id);
-- Append-only record of redemptions; the primary key makes a second use of a token fail
-- even when two browsers redeem it at the same moment.
CREATE TABLE join_token_uses (
    token_hash TEXT PRIMARY KEY,
    used_at TIMESTAMP NOT NULL
);
