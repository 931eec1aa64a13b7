// Loaded into the server by the bench (`node --import ./bench/count-statements.ts src/main.ts`,
// with an IPC channel): counts the SQL statements the server runs, through node:sqlite's
// prepared statements and `exec`, and through pg's `Client#query`, and answers the message
// "counts" with the totals so far, and "memory" with process.memoryUsage() (after a full garbage
// collection when started with --expose-gc). The server itself is unchanged; each counted call costs one
// extra function call.
import { DatabaseSync, StatementSync } from "node:sqlite";
import pg from "pg";

const counts = { statements: 0, commits: 0, control: 0 };

function classify(sql: unknown): void {
  const head = typeof sql === "string" ? sql.trimStart().slice(0, 12).toUpperCase() : "";
  if (head.startsWith("COMMIT")) counts.commits++;
  else if (/^(BEGIN|SAVEPOINT|RELEASE|ROLLBACK)/.test(head)) counts.control++;
  else counts.statements++;
}

for (const method of ["run", "get", "all", "iterate"] as const) {
  const original = StatementSync.prototype[method] as (...a: unknown[]) => unknown;
  (StatementSync.prototype as unknown as Record<string, unknown>)[method] = function (this: StatementSync, ...a: unknown[]) {
    counts.statements++;
    return original.apply(this, a);
  };
}
const exec = DatabaseSync.prototype.exec;
DatabaseSync.prototype.exec = function (this: DatabaseSync, sql: string) {
  classify(sql);
  return exec.call(this, sql);
};

const query = pg.Client.prototype.query as (...a: unknown[]) => unknown;
(pg.Client.prototype as unknown as { query: unknown }).query = function (this: pg.Client, ...a: unknown[]) {
  const q = a[0];
  // A simple query may carry several statements (PostgreSQL writes held back and sent with the
  // COMMIT), joined by ";\n": each is counted.
  if (typeof q === "string") for (const part of q.split(";\n")) classify(part);
  else classify((q as { text?: unknown } | undefined)?.text);
  return query.apply(this, a);
};

if (process.send) {
  process.on("message", (m) => {
    if (m === "counts") process.send!({ ...counts });
    // After a full collection when the bench started the server with --expose-gc.
    if (m === "memory") {
      (globalThis as { gc?: () => void }).gc?.();
      process.send!(process.memoryUsage());
    }
  });
  process.channel?.unref(); // the channel never keeps the server running
}
