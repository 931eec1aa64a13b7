-- Data Pipeline instances and attempts, one row each (they were part of dp_pipelines.state).
-- A claim, a status or a timer writes only the rows it changes; a change loads only the
-- instances that have not ended (`final` = 0) and their open attempts, so the instances of past
-- periods cost nothing to a pipeline's transitions. `body` is the engine's JSON of the object;
-- `status` and `final` repeat what it says for the queries that select by them. Rows go with
-- DeletePipeline.
CREATE TABLE dp_instances (
  pipeline_id TEXT NOT NULL,
  id          TEXT NOT NULL,
  component   TEXT NOT NULL,
  start_ms    INTEGER NOT NULL,
  status      TEXT NOT NULL,
  final       INTEGER NOT NULL,
  body        TEXT NOT NULL,
  PRIMARY KEY (pipeline_id, id)
);

CREATE INDEX dp_instances_live ON dp_instances (pipeline_id, final, start_ms);
CREATE INDEX dp_instances_component ON dp_instances (pipeline_id, component, start_ms);

CREATE TABLE dp_attempts (
  pipeline_id TEXT NOT NULL,
  id          TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  start_ms    INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  final       INTEGER NOT NULL,
  body        TEXT NOT NULL,
  PRIMARY KEY (pipeline_id, id)
);

CREATE INDEX dp_attempts_live ON dp_attempts (pipeline_id, final);
