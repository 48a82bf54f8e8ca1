-- Foundation: regions, metrics, history, signals, sources, users.
CREATE TABLE regions (
    region TEXT PRIMARY KEY,
    name_en TEXT,
    name_zh TEXT,
    parent TEXT,
    lead TEXT
);
CREATE TABLE metrics (
    metric TEXT PRIMARY KEY,
    unit TEXT,
    frequency TEXT NOT NULL
);
CREATE TABLE sources (
    source_id INTEGER PRIMARY KEY,
    file_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    rows INTEGER NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    loaded_by TEXT NOT NULL
);
CREATE TABLE history (
    region TEXT NOT NULL,
    metric TEXT NOT NULL,
    period TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    value DOUBLE NOT NULL,
    source_id INTEGER,
    PRIMARY KEY (region, metric, period)
);
CREATE TABLE signals (
    region TEXT NOT NULL,
    signal TEXT NOT NULL,
    period TEXT NOT NULL,
    frequency TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    dimension TEXT NOT NULL,
    value DOUBLE NOT NULL,
    source_id INTEGER,
    PRIMARY KEY (region, signal, period)
);
CREATE TABLE users (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE user_regions (
    username TEXT NOT NULL,
    region TEXT NOT NULL,
    PRIMARY KEY (username, region)
);
CREATE TABLE login_attempts (
    username TEXT NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    ok BOOLEAN NOT NULL
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
