-- The parent run of a child workflow execution, so a parent that is terminated or times out can
-- apply its child policy to its open children.
ALTER TABLE swf_executions ADD COLUMN parent_run_id TEXT;
CREATE INDEX swf_executions_parent ON swf_executions (parent_run_id) WHERE parent_run_id IS NOT NULL;

-- Tags of workflow executions, for ListOpen/ListClosed/Count*WorkflowExecutions tagFilter.
CREATE TABLE swf_execution_tags (
  run_id TEXT NOT NULL,
  tag    TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
);
CREATE INDEX swf_execution_tags_tag ON swf_execution_tags (tag);
CREATE INDEX swf_executions_visibility ON swf_executions (domain, status, start_ms);
CREATE INDEX swf_executions_closed ON swf_executions (domain, status, close_ms);

-- Tags of domains (RegisterDomain tags, TagResource, UntagResource, ListTagsForResource).
CREATE TABLE swf_domain_tags (
  domain TEXT NOT NULL,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (domain, key)
);
