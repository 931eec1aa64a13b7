-- Data Pipeline pipelines. `unique_id` with `name` makes CreatePipeline idempotent. `deleted`
-- is 1 once DeletePipeline ran: the row stays as a tombstone so later calls answer
-- PipelineDeletedException rather than PipelineNotFoundException. `tags` is the JSON list of
-- {key, value}; `latest` and `active` the JSON of the saved and of the activated definition
-- ({objects, parameterObjects, parameterValues}, null until saved or activated); `state` the JSON
-- of the pipeline's run: its state, activations, instances and attempts. Every change of a
-- pipeline's run rewrites its row in the transaction that made it.
CREATE TABLE dp_pipelines (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  unique_id   TEXT NOT NULL,
  description TEXT,
  created_ms  INTEGER NOT NULL,
  deleted     INTEGER NOT NULL,
  tags        TEXT NOT NULL,
  latest      TEXT,
  active      TEXT,
  state       TEXT NOT NULL
);

CREATE INDEX dp_pipelines_unique ON dp_pipelines (unique_id, name);

-- Task runners that reported a heartbeat (ReportTaskRunnerHeartbeat), by their taskrunnerId.
CREATE TABLE dp_task_runners (
  id            TEXT PRIMARY KEY,
  worker_group  TEXT,
  hostname      TEXT,
  heartbeat_ms  INTEGER NOT NULL
);
