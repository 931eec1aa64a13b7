-- Task indexes hold only the rows their queries read. A claim reads scheduled tasks only (state 0)
-- and a token lookup only started ones (a scheduled task has no token), so the claim index leaves
-- started tasks out and the token index leaves out tasks without a token. Each task then costs
-- four index writes fewer over its life: starting it moves it out of the claim index instead of
-- within it and gives it one token entry instead of replacing a NULL one, and deleting a started
-- task touches neither the claim index nor a NULL token entry.
DROP INDEX tasks_claim;
CREATE INDEX tasks_claim ON tasks (queue, priority DESC, id) WHERE state = 0;
DROP INDEX tasks_token;
CREATE UNIQUE INDEX tasks_token ON tasks (token) WHERE token IS NOT NULL;
