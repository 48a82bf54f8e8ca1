-- Notifications that reach people: each person's delivery settings, and an outbox of
-- deliveries (one row per notification x channel). The inbox (notifications) stays the
-- record; a delivery only says whether a copy went out by e-mail or to a group robot.
-- A person's settings: append-only, the newest row per username counts.
CREATE SEQUENCE notify_prefs_seq START 1;
CREATE TABLE notify_prefs (
    pref_id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    email TEXT,
    lang TEXT NOT NULL,
    email_on BOOLEAN NOT NULL,
    wecom_on BOOLEAN NOT NULL,
    dingtalk_on BOOLEAN NOT NULL,
    feishu_on BOOLEAN NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL
);
-- Which notifications the worker has already turned into deliveries (even into none), so
-- each one is considered once.
CREATE TABLE notification_routes (
    notification_id INTEGER PRIMARY KEY,
    routed_at TIMESTAMP NOT NULL
);
-- The outbox. A group robot gets one message per decision and group, not one per
-- recipient: dedupe_key names the decision, so a second recipient's copy is not queued.
CREATE SEQUENCE deliveries_seq START 1;
CREATE TABLE deliveries (
    delivery_id INTEGER PRIMARY KEY,
    notification_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    -- an e-mail address, or the robot's group name (its webhook URL holds a token, so it
    -- stays in the environment and is looked up when sending)
    target TEXT NOT NULL,
    lang TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
