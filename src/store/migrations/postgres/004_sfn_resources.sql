-- Step Functions activities. A name is unique per region and account (the server's); the ARN is
-- built from the name and the configured region and account, so it is not stored.
-- `encryption` is the JSON of the activity's EncryptionConfiguration (null: AWS-owned key).
CREATE TABLE sfn_activities (
  name        TEXT PRIMARY KEY,
  created_ms  BIGINT NOT NULL,
  encryption  TEXT
);

-- Step Functions state machines. `status` is ACTIVE or DELETING (deleted once its executions
-- have ended); `type` STANDARD or EXPRESS; `logging`, `tracing` and `encryption` are the
-- JSON of the configurations as DescribeStateMachine returns them; `revision_id` changes with
-- every update of the definition or role.
CREATE TABLE sfn_state_machines (
  name         TEXT PRIMARY KEY,
  status       TEXT NOT NULL,
  type         TEXT NOT NULL,
  definition   TEXT NOT NULL,
  role_arn     TEXT NOT NULL,
  logging      TEXT NOT NULL,
  tracing      TEXT NOT NULL,
  encryption   TEXT,
  revision_id  TEXT NOT NULL,
  created_ms   BIGINT NOT NULL,
  updated_ms   BIGINT
);

-- Tags of activities and state machines (`kind` 'activity' or 'stateMachine'), removed with
-- their resource.
CREATE TABLE sfn_tags (
  kind   TEXT NOT NULL,
  name   TEXT NOT NULL,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (kind, name, key)
);
