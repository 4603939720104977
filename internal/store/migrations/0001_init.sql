-- 0001: the history store of `ticketguard serve`.
--
-- Times are TEXT in UTC, fixed width with milliseconds ("2026-11-27T06:00:00.000Z"),
-- so they sort as strings and SQLite's date functions read them.
-- JSON columns are TEXT checked with json_valid; the store never looks inside them.

-- One row per collection run of one tenant, written at the end of the run
-- together with everything below in one transaction.
CREATE TABLE runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused after a prune: Slack messages cite run ids
    tenant       TEXT    NOT NULL CHECK (tenant <> ''),
    started_at   TEXT    NOT NULL,
    finished_at  TEXT    NOT NULL,
    outcome      TEXT    NOT NULL CHECK (outcome IN ('ok', 'failed', 'partial')),
    requests     INTEGER NOT NULL DEFAULT 0 CHECK (requests >= 0),
    retries      INTEGER NOT NULL DEFAULT 0 CHECK (retries >= 0),
    throttled    INTEGER NOT NULL DEFAULT 0 CHECK (throttled >= 0),
    error        TEXT    NOT NULL DEFAULT '',   -- already redacted by the caller
    result_count INTEGER NOT NULL DEFAULT 0,    -- rows in check_results, a self-check for readers
    drift_count  INTEGER NOT NULL DEFAULT 0     -- rows in drift_events
);
CREATE INDEX runs_tenant ON runs (tenant, id);

-- The collected snapshot, compressed. Absent for a run that collected nothing.
CREATE TABLE snapshots (
    run_id   INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    encoding TEXT    NOT NULL CHECK (encoding IN ('zstd')),
    data     BLOB    NOT NULL,
    sha256   TEXT    NOT NULL,                  -- hex, of the uncompressed JSON
    raw_size INTEGER NOT NULL CHECK (raw_size >= 0)
);

-- Catalogue entries (title, remediation, ...) as they were when a run used
-- them, stored once per distinct content so that an old run still renders with
-- the text it was evaluated with.
CREATE TABLE checks (
    hash     TEXT PRIMARY KEY,                  -- hex SHA-256 of body
    check_id TEXT NOT NULL,
    body     TEXT NOT NULL CHECK (json_valid(body))
) WITHOUT ROWID;

CREATE TABLE check_results (
    run_id          INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    check_id        TEXT    NOT NULL,
    position        INTEGER NOT NULL,           -- order the engine returned
    check_hash      TEXT    NOT NULL REFERENCES checks (hash),
    status          TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    findings        TEXT    NOT NULL CHECK (json_valid(findings)),
    waiver          TEXT             CHECK (waiver IS NULL OR json_valid(waiver)),
    baseline_status TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, check_id)
) WITHOUT ROWID;
CREATE INDEX check_results_check ON check_results (check_hash);

CREATE TABLE drift_events (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    against      TEXT    NOT NULL CHECK (against IN ('previous', 'baseline')),
    against_run  INTEGER,                       -- no foreign key: the compared run may be pruned later
    object_kind  TEXT    NOT NULL,
    object_key   TEXT    NOT NULL,
    object_label TEXT    NOT NULL DEFAULT '',
    property     TEXT    NOT NULL DEFAULT '',   -- '' when a whole object was added or removed
    before       TEXT    CHECK (before IS NULL OR json_valid(before)),
    after        TEXT    CHECK (after IS NULL OR json_valid(after)),
    change       TEXT    NOT NULL CHECK (change IN ('added', 'removed', 'changed'))
);
CREATE INDEX drift_events_run ON drift_events (run_id, position);

-- The approved baseline per tenant. No ON DELETE: a baseline run cannot be deleted.
CREATE TABLE baselines (
    tenant      TEXT PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id),
    approved_at TEXT    NOT NULL,
    approved_by TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX baselines_run ON baselines (run_id);

-- What was last announced per tenant and check, so a notifier tells a change once.
CREATE TABLE alert_state (
    tenant           TEXT NOT NULL,
    check_id         TEXT NOT NULL,
    status           TEXT NOT NULL,
    last_notified_at TEXT,
    thread_key       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant, check_id)
) WITHOUT ROWID;

-- The Slack thread a tenant's messages reply in.
CREATE TABLE threads (
    tenant     TEXT PRIMARY KEY,
    channel    TEXT NOT NULL,
    ts         TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- Messages written before they are sent and marked after (at-least-once delivery).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant          TEXT    NOT NULL,
    run_id          INTEGER REFERENCES runs (id) ON DELETE CASCADE, -- NULL for messages outside a run
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL CHECK (json_valid(payload)),
    created_at      TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    sent_at         TEXT,
    slack_ts        TEXT    NOT NULL DEFAULT '',
    abandoned_at    TEXT                        -- given up on (a permanent error); neither pending nor sent
);
CREATE INDEX outbox_pending ON outbox (tenant, id) WHERE sent_at IS NULL AND abandoned_at IS NULL;
CREATE INDEX outbox_run ON outbox (run_id);
