-- Step Functions executions. `id` is `sfn:<state machine>:<execution name>` (names contain no
-- colon), also the owner of the execution's worker tasks and timers. The execution keeps the
-- definition text and revision it started with, so an update of its state machine never changes
-- a running execution. `state` is the interpreter's JSON state between steps; `status` RUNNING,
-- SUCCEEDED, FAILED, TIMED_OUT or ABORTED; `stop_ms` null while running.
CREATE TABLE sfn_executions (
  id           TEXT PRIMARY KEY,
  machine      TEXT NOT NULL,
  name         TEXT NOT NULL,
  status       TEXT NOT NULL,
  input        TEXT NOT NULL,
  output       TEXT,
  error        TEXT,
  cause        TEXT,
  start_ms     BIGINT NOT NULL,
  stop_ms      BIGINT,
  definition   TEXT NOT NULL,
  revision_id  TEXT NOT NULL,
  role_arn     TEXT NOT NULL,
  state        TEXT NOT NULL
);
-- ListExecutions: newest first per state machine, optionally of one status.
CREATE INDEX sfn_executions_machine ON sfn_executions (machine, start_ms, name);
CREATE INDEX sfn_executions_status ON sfn_executions (machine, status, start_ms, name);

-- The history of each execution: events numbered from 1; `details` is the JSON of the event's
-- one *EventDetails member.
CREATE TABLE sfn_history (
  execution    TEXT NOT NULL,
  id           INTEGER NOT NULL,
  previous_id  INTEGER NOT NULL,
  ts_ms        BIGINT NOT NULL,
  type         TEXT NOT NULL,
  details      TEXT,
  PRIMARY KEY (execution, id)
);

-- Task tokens that were valid once and are no longer (the task succeeded, failed, timed out, was
-- withdrawn or its execution closed): SendTask* answers TaskTimedOut for them, as AWS does,
-- and TaskDoesNotExist for a token never issued.
CREATE TABLE sfn_spent_tokens (
  token      TEXT PRIMARY KEY,
  execution  TEXT NOT NULL
);
