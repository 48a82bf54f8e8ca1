-- HTTP API: bearer tokens (only the SHA-256 of a token is stored) and the call log.
-- Tokens are append-only: a revocation is its own row, never an edit of the token.
CREATE SEQUENCE api_tokens_seq START 1;
CREATE TABLE api_tokens (
    token_id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE api_token_revocations (
    token_id BIGINT PRIMARY KEY,
    revoked_at TIMESTAMP NOT NULL,
    revoked_by TEXT NOT NULL
);
-- One row per API call (token name NULL when no valid token was given).
CREATE TABLE api_calls (
    called_at TIMESTAMP NOT NULL,
    token_name TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    bytes_in BIGINT NOT NULL,
    millis DOUBLE NOT NULL
);
CREATE INDEX api_calls_token ON api_calls (token_name);
