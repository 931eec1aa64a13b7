-- Node liveness and delivery tracking. A claim records the node that answers the poll and stays
-- undelivered (delivered = 0) until that node has written the answer. When a node stops
-- heartbeating, another node returns its undelivered tasks to their queues.
CREATE TABLE nodes (
  id           TEXT PRIMARY KEY,
  heartbeat_ms INTEGER NOT NULL
);
ALTER TABLE tasks ADD COLUMN node TEXT;
ALTER TABLE tasks ADD COLUMN delivered INTEGER NOT NULL DEFAULT 1;
CREATE INDEX tasks_undelivered ON tasks (node) WHERE delivered = 0;
