-- Consensus letters: versions, signatures, corrections and archived PDF files.
-- Portable SQL (BLOB would be BYTEA on PostgreSQL). Every table is append-only: a signed
-- letter never changes; a change makes a new version chained by previous_sha256.
CREATE TABLE letters (
    letter_id INTEGER PRIMARY KEY,
    cycle_id INTEGER NOT NULL,
    region TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_json TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    previous_sha256 TEXT,
    lead_username TEXT,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (cycle_id, region, version)
);
CREATE TABLE letter_signatures (
    signature_id INTEGER PRIMARY KEY,
    letter_id INTEGER NOT NULL,
    role TEXT NOT NULL,
    username TEXT NOT NULL,
    name TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL,
    content_sha256 TEXT NOT NULL,
    UNIQUE (letter_id, role)
);
-- Corrections to a region's letter text (justification, risks, support); the latest row
-- per field wins and produces a new letter version.
CREATE TABLE letter_corrections (
    correction_id INTEGER PRIMARY KEY,
    cycle_id INTEGER NOT NULL,
    region TEXT NOT NULL,
    field TEXT NOT NULL,
    value_json TEXT NOT NULL,
    reason TEXT NOT NULL,
    corrected_at TIMESTAMP NOT NULL,
    corrected_by TEXT NOT NULL
);
-- A rendered PDF as handed out: one per letter version, language and number of
-- signatures it shows (0 draft, 1 signed by the lead, 2 fully signed).
CREATE TABLE letter_files (
    file_id INTEGER PRIMARY KEY,
    letter_id INTEGER NOT NULL,
    lang TEXT NOT NULL,
    signatures INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (letter_id, lang, signatures)
);
CREATE INDEX letter_files_sha ON letter_files (file_sha256);
