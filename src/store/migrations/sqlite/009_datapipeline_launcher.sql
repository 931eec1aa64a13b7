-- The principal whose credentials created a pipeline (with --auth sigv4; Data Pipeline's
-- PipelineCreator), NULL for pipelines created with --auth off and before this migration. Written
-- once: a pipeline's tasks go to the worker-group queue of its account and this principal, so
-- PollForTask hands a runner only tasks of pipelines its own principal launched, or principals
-- its policy grants by datapipeline:PipelineCreator. NULL keeps the account's queue of before.
ALTER TABLE dp_pipelines ADD COLUMN creator_principal TEXT;
-- A task runner's poll reads the creators of its account's live pipelines.
CREATE INDEX dp_pipelines_creator ON dp_pipelines (creator_account, creator_principal);
