-- The dispatch core and the SWF engine. PostgreSQL has the same numbered file.

-- Server-wide values (the secret that signs page tokens).
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- Every queued or running task of every service. A task is scheduled (state 0) until one worker
-- claims it, then started (state 1) with a token bound to that attempt, and deleted when it closes.
-- `queue` names the task list / activity / worker group; `owner` the execution it belongs to;
-- `key` is unique within the owner (an SWF activityId, or 'decision': at most one decision task
-- per execution).
CREATE TABLE tasks (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  queue        TEXT    NOT NULL,
  priority     INTEGER NOT NULL DEFAULT 0,
  state        INTEGER NOT NULL DEFAULT 0,
  token        TEXT,
  owner        TEXT    NOT NULL,
  key          TEXT    NOT NULL,
  payload      TEXT    NOT NULL,
  scheduled_ms INTEGER NOT NULL,
  started_ms   INTEGER
);
-- Claim order: highest priority first, FIFO (id) within a priority.
CREATE INDEX tasks_claim ON tasks (queue, state, priority DESC, id);
CREATE UNIQUE INDEX tasks_token ON tasks (token);
CREATE UNIQUE INDEX tasks_owner_key ON tasks (owner, key);

-- Durable timers: every timeout and SWF timer. A timer fires once: the handler deletes its row
-- in the same transaction as its effects. `ref` ties it to one task attempt or one SWF timer.
CREATE TABLE timers (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  fire_ms  INTEGER NOT NULL,
  kind     TEXT    NOT NULL,
  owner    TEXT    NOT NULL,
  ref      TEXT    NOT NULL
);
CREATE INDEX timers_due ON timers (fire_ms);
CREATE INDEX timers_owner ON timers (owner, ref);

-- SWF domains.
CREATE TABLE swf_domains (
  name           TEXT PRIMARY KEY,
  status         TEXT NOT NULL,
  description    TEXT,
  retention_days TEXT NOT NULL,
  created_ms     INTEGER NOT NULL
);

-- SWF workflow and activity types (`kind` 'workflow' or 'activity'); `config` is the JSON of the
-- registered defaults.
CREATE TABLE swf_types (
  domain         TEXT NOT NULL REFERENCES swf_domains (name),
  kind           TEXT NOT NULL,
  name           TEXT NOT NULL,
  version        TEXT NOT NULL,
  status         TEXT NOT NULL,
  description    TEXT,
  created_ms     INTEGER NOT NULL,
  deprecated_ms  INTEGER,
  config         TEXT NOT NULL,
  PRIMARY KEY (domain, kind, name, version)
);

-- SWF workflow executions. `state` is the JSON of the execution's configuration and counters.
CREATE TABLE swf_executions (
  run_id         TEXT PRIMARY KEY,
  domain         TEXT NOT NULL REFERENCES swf_domains (name),
  workflow_id    TEXT NOT NULL,
  type_name      TEXT NOT NULL,
  type_version   TEXT NOT NULL,
  status         TEXT NOT NULL,
  close_status   TEXT,
  start_ms       INTEGER NOT NULL,
  close_ms       INTEGER,
  next_event_id  INTEGER NOT NULL,
  state          TEXT NOT NULL
);
-- At most one open execution per workflowId in a domain.
CREATE UNIQUE INDEX swf_executions_open ON swf_executions (domain, workflow_id) WHERE status = 'OPEN';
CREATE INDEX swf_executions_wid ON swf_executions (domain, workflow_id, start_ms);

-- SWF history events, protobuf-encoded taskgate.swf.v1.HistoryEvent, append-only.
CREATE TABLE swf_events (
  run_id   TEXT    NOT NULL,
  event_id INTEGER NOT NULL,
  data     BLOB    NOT NULL,
  PRIMARY KEY (run_id, event_id)
);
