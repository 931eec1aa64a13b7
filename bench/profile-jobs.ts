// Profiling aid: one job-queue run of one taskgate path on SQLite, with the server's CPU profile
// written to --cpu-prof-dir. `node bench/profile-jobs.ts <own|batch|aws> <dir> [drain]`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "./common.ts";
import { taskgateJobs } from "./jobs.ts";

const route = (process.argv[2] ?? "batch") as "own" | "batch" | "aws";
const dir = process.argv[3] ?? "prof";
const drain = Number(process.argv[4] ?? 20_000);
const tmp = mkdtempSync(join(tmpdir(), "taskgate-prof-"));
const server = await startServer(`sqlite:${join(tmp, "db.sqlite")}`, { node: ["--cpu-prof", `--cpu-prof-dir=${dir}`] });
try {
  const r = await taskgateJobs(server, route, { drain, latency: 300, rate: 200 });
  console.log(JSON.stringify(r, null, 1));
} finally {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
}
