-- Two-way negotiation: cycles, published suggestions, the decision log, attachments.
-- Portable SQL (plain types, no sequences or DuckDB-only types) so a PostgreSQL backend
-- can run the same DDL (BLOB would be BYTEA there). Every table is append-only: the
-- cycle's status and each region's state are derived from the events.
CREATE TABLE cycles (
    cycle_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    metric TEXT NOT NULL,
    period TEXT NOT NULL,
    company_target DOUBLE PRECISION NOT NULL,
    dissent_threshold DOUBLE PRECISION NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE cycle_suggestions (
    cycle_id INTEGER NOT NULL,
    run_id INTEGER NOT NULL,
    region TEXT NOT NULL,
    suggestion DOUBLE PRECISION NOT NULL,
    lower80 DOUBLE PRECISION,
    upper80 DOUBLE PRECISION,
    history DOUBLE PRECISION,
    market DOUBLE PRECISION,
    pipeline DOUBLE PRECISION,
    capacity DOUBLE PRECISION,
    reason_en TEXT,
    reason_zh TEXT,
    published_at TIMESTAMP NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (cycle_id, run_id, region)
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    cycle_id INTEGER NOT NULL,
    region TEXT,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    "at" TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    value DOUBLE PRECISION,
    suggestion DOUBLE PRECISION,
    run_id INTEGER,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX events_cycle_region ON events (cycle_id, region);
CREATE TABLE attachments (
    attachment_id INTEGER PRIMARY KEY,
    cycle_id INTEGER NOT NULL,
    region TEXT NOT NULL,
    file_name TEXT NOT NULL,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    uploaded_at TIMESTAMP NOT NULL,
    uploaded_by TEXT NOT NULL
);
