-- The parent run of a child workflow execution, so a parent that is terminated or times out can
-- apply its child policy to its open children.
ALTER TABLE swf_executions ADD COLUMN parent_run_id TEXT;
CREATE INDEX swf_executions_parent ON swf_executions (parent_run_id) WHERE parent_run_id IS NOT NULL;
