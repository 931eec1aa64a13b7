// Profiling aid: one job-queue run of one taskgate path, with the server's CPU profile written to
// a directory (--cpu-prof; the SQLite checkpointer thread writes a second, smaller profile).
//
//   node bench/profile-jobs.ts <own|batch|aws> <dir> [tasks] [sqlite|postgres]
//
// PostgreSQL runs on TASKGATE_BENCH_POSTGRES_URL in a schema of its own, dropped at the end.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { pgUrl, startServer } from "./common.ts";
import { taskgateJobs } from "./jobs.ts";

const route = (process.argv[2] ?? "batch") as "own" | "batch" | "aws";
const dir = process.argv[3] ?? "prof";
const drain = Number(process.argv[4] ?? 20_000);
const store = process.argv[5] ?? "sqlite";
const tmp = mkdtempSync(join(tmpdir(), "taskgate-prof-"));
const schema = `taskgate_prof_${process.pid}`;
let database = `sqlite:${join(tmp, "db.sqlite")}`;
if (store === "postgres") {
  const url = new URL(pgUrl);
  url.searchParams.set("schema", schema);
  database = url.toString();
}
const server = await startServer(database, { node: ["--cpu-prof", `--cpu-prof-dir=${dir}`] });
try {
  const r = await taskgateJobs(server, route, { drain, latency: 300, rate: 200 });
  console.log(JSON.stringify(r, null, 1));
} finally {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
  if (store === "postgres") {
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
}
