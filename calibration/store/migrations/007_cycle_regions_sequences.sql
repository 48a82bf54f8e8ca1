-- A closed cycle stays as it was signed: the regions a locked cycle shows (names, parent,
-- the lead named in the regions file, the lead account and its display name) are frozen at
-- lock by the lock service, in the transaction that records the lock. Letters, tracking and
-- the board of a locked cycle read this table, so a later regions import changes nothing
-- that was agreed or signed. Append-only: one row per (cycle, region), never updated.
CREATE TABLE cycle_regions (
    cycle_id INTEGER NOT NULL,
    region TEXT NOT NULL,
    name_en TEXT,
    name_zh TEXT,
    parent TEXT,
    lead TEXT,
    lead_username TEXT,
    lead_name TEXT,
    frozen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (cycle_id, region)
);
-- Cycles locked before this migration: frozen as their newest letter shows them, so an
-- upgrade changes no letter (parent and the regions-file lead come from today's table).
INSERT INTO cycle_regions (cycle_id, region, name_en, name_zh, parent, lead, lead_username,
    lead_name, frozen_at)
SELECT l.cycle_id, l.region,
    json_extract_string(l.content_json, '$.region_name_en'),
    nullif(json_extract_string(l.content_json, '$.region_name_zh'), ''),
    g.parent, g.lead, l.lead_username,
    json_extract_string(l.content_json, '$.lead_name'), l.created_at
FROM letters l
LEFT JOIN regions g ON g.region = l.region
WHERE l.version = (SELECT max(m.version) FROM letters m
                   WHERE m.cycle_id = l.cycle_id AND m.region = l.region);
-- Ids from sequences instead of MAX(id)+1, so two writers at once never pick the same id.
-- core.migrate moves each sequence past the ids already stored when this migration runs.
CREATE SEQUENCE sources_seq START 1;
CREATE SEQUENCE model_runs_seq START 1;
CREATE SEQUENCE cycles_seq START 1;
CREATE SEQUENCE attachments_seq START 1;
CREATE SEQUENCE letters_seq START 1;
CREATE SEQUENCE letter_signatures_seq START 1;
CREATE SEQUENCE letter_corrections_seq START 1;
CREATE SEQUENCE letter_files_seq START 1;
CREATE SEQUENCE tracking_events_seq START 1;
CREATE SEQUENCE root_causes_seq START 1;
CREATE SEQUENCE commitment_events_seq START 1;
CREATE SEQUENCE notifications_seq START 1;
