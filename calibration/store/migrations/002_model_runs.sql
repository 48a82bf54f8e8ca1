-- Model runs: a saved baseline fit per metric and target period. Runs are append-only.
CREATE TABLE model_runs (
    run_id INTEGER PRIMARY KEY,
    metric TEXT NOT NULL,
    period TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    params TEXT NOT NULL,
    backtest TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE model_run_regions (
    run_id INTEGER NOT NULL,
    region TEXT NOT NULL,
    suggestion DOUBLE,
    lower80 DOUBLE,
    upper80 DOUBLE,
    base DOUBLE,
    history DOUBLE,
    market DOUBLE,
    pipeline DOUBLE,
    capacity DOUBLE,
    reason_en TEXT,
    reason_zh TEXT,
    PRIMARY KEY (run_id, region)
);
CREATE TABLE model_run_signals (
    run_id INTEGER NOT NULL,
    region TEXT NOT NULL,
    signal TEXT NOT NULL,
    dimension TEXT NOT NULL,
    change DOUBLE,
    contribution DOUBLE,
    PRIMARY KEY (run_id, region, signal)
);
