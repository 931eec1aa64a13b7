-- Closed Step Functions executions are kept for 90 days after they stop, as AWS keeps them, then
-- deleted with their history and spent tokens by a timer of kind `sfn.retention` that the close
-- arms. Executions that closed before this migration get their timer here.
INSERT INTO timers (fire_ms, kind, owner, ref)
SELECT stop_ms + 7776000000, 'sfn.retention', id, 'retention' FROM sfn_executions WHERE status <> 'RUNNING' AND stop_ms IS NOT NULL;
