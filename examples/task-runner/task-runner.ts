// A small Data Pipeline task runner on the AWS SDK for JavaScript v3: it long-polls one worker
// group, runs each activity's `command` (with its `scriptArgument`s) in a shell, reports progress
// while the command runs (stopping it when the service answers canceled), and sets the task's
// status: FINISHED on exit code 0, FAILED with the end of stderr otherwise. Preconditions
// (ShellCommandPrecondition) answer FALSE instead of FAILED when their command exits non-zero.
// It works unchanged against AWS Data Pipeline or taskgate: only the endpoint differs.
//
//   node examples/task-runner/task-runner.ts --endpoint http://127.0.0.1:8080 --worker-group my-group
//
// Flags: --endpoint (omit for AWS), --region (default us-east-1), --worker-group (required),
// --progress-seconds (how often to report progress, default 60, as AWS asks), --once (exit after
// one task or one empty poll).
import { spawn } from "node:child_process";
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { DataPipelineClient, PollForTaskCommand, ReportTaskProgressCommand, ReportTaskRunnerHeartbeatCommand, SetTaskStatusCommand, type PipelineObject, type TaskObject } from "@aws-sdk/client-data-pipeline";

/** The value of a command-line flag, or `fallback`. */
function flag(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const workerGroup = flag("worker-group");
if (!workerGroup) {
  console.error("usage: task-runner.ts --worker-group <name> [--endpoint <url>] [--region <region>] [--progress-seconds <n>] [--once]");
  process.exit(2);
}
const endpoint = flag("endpoint");
const progressMs = Number(flag("progress-seconds", "60")) * 1000;
const once = process.argv.includes("--once");
const runnerId = `example-${randomUUID()}`;
const host = hostname();

// Without --endpoint the client talks to AWS with the usual credential chain; with it, to taskgate,
// which accepts any credentials.
const client = new DataPipelineClient({
  region: flag("region", "us-east-1"),
  ...(endpoint ? { endpoint, credentials: { accessKeyId: "taskgate", secretAccessKey: "taskgate" } } : {}),
  // A poll holds up to 90 s: let the socket wait longer than that.
  requestHandler: { requestTimeout: 100_000 },
});

/** The string values of a field of an object, in order. */
function values(o: PipelineObject | undefined, key: string): string[] {
  return (o?.fields ?? []).filter((f) => f.key === key && f.stringValue !== undefined).map((f) => f.stringValue!);
}

/** Runs one task to its final status. */
async function run(task: TaskObject): Promise<void> {
  const attempt = task.objects?.[task.attemptId!];
  const command = values(attempt, "command")[0];
  const isPrecondition = values(attempt, "type")[0]?.endsWith("Precondition") ?? false;
  const args = values(attempt, "scriptArgument");
  console.log(`${task.attemptId}: ${command ?? "(no command)"}`);
  if (command === undefined) {
    await client.send(new SetTaskStatusCommand({ taskId: task.taskId, taskStatus: "FAILED", errorId: "NoCommand", errorMessage: "The object has no 'command' field; this runner runs commands only." }));
    return;
  }
  // The first report acknowledges the task.
  await client.send(new ReportTaskProgressCommand({ taskId: task.taskId }));
  const child = spawn(command, args, { shell: true, stdio: ["ignore", "inherit", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let canceled = false;
  const progress = setInterval(() => {
    client
      .send(new ReportTaskProgressCommand({ taskId: task.taskId }))
      .then((r) => {
        if (r.canceled) {
          canceled = true;
          child.kill("SIGTERM");
        }
      })
      .catch((e: unknown) => console.error("progress report failed:", e));
  }, progressMs);
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
  clearInterval(progress);
  // A canceled task needs no status.
  if (canceled) return console.log(`${task.attemptId}: canceled`);
  if (code === 0) await client.send(new SetTaskStatusCommand({ taskId: task.taskId, taskStatus: "FINISHED" }));
  else if (isPrecondition) await client.send(new SetTaskStatusCommand({ taskId: task.taskId, taskStatus: "FALSE" }));
  else await client.send(new SetTaskStatusCommand({ taskId: task.taskId, taskStatus: "FAILED", errorId: `ExitCode${code}`, errorMessage: stderr.trim() || `exit code ${code}` }));
  console.log(`${task.attemptId}: exit ${code}`);
}

await client.send(new ReportTaskRunnerHeartbeatCommand({ taskrunnerId: runnerId, workerGroup, hostname: host }));
const heartbeat = setInterval(() => void client.send(new ReportTaskRunnerHeartbeatCommand({ taskrunnerId: runnerId, workerGroup, hostname: host })).catch(() => undefined), 15 * 60_000);
for (;;) {
  const { taskObject } = await client.send(new PollForTaskCommand({ workerGroup, hostname: host }));
  if (taskObject) await run(taskObject);
  if (once) break;
}
clearInterval(heartbeat);
client.destroy();
