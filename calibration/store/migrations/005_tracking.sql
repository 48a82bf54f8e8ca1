-- Tracking after lock: actuals, escalation/alert/warning records, root-cause forms,
-- commitment delivery events and per-user notifications with read markers.
-- Portable SQL; every table except actuals is append-only (state is derived from rows).
CREATE TABLE actuals (
    region TEXT NOT NULL,
    metric TEXT NOT NULL,
    "date" DATE NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    source_id INTEGER,
    PRIMARY KEY (region, metric, "date")
);
-- One row per triggered rung (alert, reminder, escalation) or early warning; the key
-- (cycle_id, region, kind, triggered_on) makes a re-evaluation record nothing new.
CREATE TABLE tracking_events (
    event_id INTEGER PRIMARY KEY,
    cycle_id INTEGER NOT NULL,
    region TEXT NOT NULL,
    kind TEXT NOT NULL,
    level INTEGER NOT NULL,
    triggered_on DATE NOT NULL,
    detail TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    recorded_by TEXT NOT NULL,
    UNIQUE (cycle_id, region, kind, triggered_on)
);
-- Root-cause forms answering a level-2 escalation; a resubmission is a new row.
CREATE TABLE root_causes (
    form_id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL,
    cycle_id INTEGER NOT NULL,
    region TEXT NOT NULL,
    cause TEXT NOT NULL,
    text TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL
);
-- Delivery status of promised support, one row per change; the latest row per item wins.
CREATE TABLE commitment_events (
    commitment_event_id INTEGER PRIMARY KEY,
    cycle_id INTEGER NOT NULL,
    region TEXT NOT NULL,
    item TEXT NOT NULL,
    delivered BOOLEAN NOT NULL,
    note TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
-- Notifications: a translation key and JSON parameters, rendered in the reader's language.
CREATE TABLE notifications (
    notification_id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    kind TEXT NOT NULL,
    cycle_id INTEGER,
    region TEXT,
    event_id INTEGER,
    message_key TEXT NOT NULL,
    params TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX notifications_user ON notifications (username);
CREATE TABLE inbox_reads (
    notification_id INTEGER NOT NULL,
    username TEXT NOT NULL,
    read_at TIMESTAMP NOT NULL
);
