-- The account whose principal created a pipeline (with --auth sigv4), NULL for the server's own
-- account (--account-id) and for pipelines created with --auth off. A pipeline's tasks go to the
-- worker-group queue of that account, so PollForTask hands a runner only tasks of pipelines its
-- own account created.
ALTER TABLE dp_pipelines ADD COLUMN creator_account TEXT;
