// The Python example client (examples/python, grpcio) against a taskgate started here, as its
// README says to run it: code generated from proto/ with examples/python/buf.gen.yaml (protoc's
// built-in Python generator and grpc_python_plugin, driven by buf), run by Debian's
// /usr/bin/python3 with python3-grpcio and python3-protobuf. The code is generated into a
// temporary folder on every run (put first on PYTHONPATH), so it can never drift from proto/
// (nothing generated is committed).
//
// Checked: every step of the program's output in order (registration, a 1 s-deadline long poll
// answered with the empty result before the deadline, the Fault detail of a failure read from
// grpc-status-details-bin, the SWF flow with the activity received on StreamActivityTasks), and,
// through taskgate's own client, the execution closed as the program says.
//
// Needs the Debian packages .ci/run installs (python3-grpcio, python3-protobuf,
// protobuf-compiler, protobuf-compiler-grpc); fails naming them when missing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { CloseStatus, EventType, ExecutionStatus } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { startTaskgate, type Taskgate } from "../helpers/harness.ts";

const root = join(import.meta.dirname, "../..");
const bin = join(root, "node_modules", ".bin");

/** What must be on this machine, and the Debian package that brings it. */
const tools: { path: string; pkg: string }[] = [
  { path: "/usr/bin/python3", pkg: "python3" },
  { path: "/usr/lib/python3/dist-packages/grpc/__init__.py", pkg: "python3-grpcio" },
  { path: "/usr/lib/python3/dist-packages/google/protobuf/__init__.py", pkg: "python3-protobuf" },
  { path: "/usr/bin/protoc", pkg: "protobuf-compiler" },
  { path: "/usr/bin/grpc_python_plugin", pkg: "protobuf-compiler-grpc" },
];

/** The program's output, line by line, in order. */
const expectedLines: { step: string; pattern: RegExp }[] = [
  { step: "registration", pattern: /^registered domain (\S+), workflow type hello\/1, activity type greet\/1$/ },
  { step: "1 s-deadline long poll", pattern: /^long poll with a 1 s deadline: empty result after (\d+) ms \(status OK\)$/ },
  { step: "fault detail", pattern: /^fault: NOT_FOUND UnknownResourceFault \(com\.amazonaws\.swf\.base\.model\): Unknown domain: no-such-domain$/ },
  { step: "start", pattern: /^started (hello-\d+) run (\S+)$/ },
  { step: "first decision", pattern: /^decision task with 3 events: scheduled greet-1$/ },
  { step: "streamed activity", pattern: /^activity task from the stream: greet-1 input "world"$/ },
  { step: "activity completed", pattern: /^completed greet-1$/ },
  { step: "closing decision", pattern: /^decision task with \d+ events: completed the workflow with "hello, world"$/ },
  { step: "closed", pattern: /^execution hello-\d+: EXECUTION_STATUS_CLOSED CLOSE_STATUS_COMPLETED$/ },
];

/** Runs a command to its end; rejects with its output when it fails or outlives `timeoutMs`. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(" ")} ended with ${signal ?? `exit code ${code}`}\nstdout:\n${out}\nstderr:\n${err}`));
    });
  });
}

describe("Python example client (grpcio)", () => {
  let tg: Taskgate;
  let work: string;
  beforeAll(async () => {
    // The server's real hold time, so the 1 s client deadline is the shorter one.
    tg = await startTaskgate({ longPollSeconds: 60 });
    work = mkdtempSync(join(tmpdir(), "taskgate-example-python-"));
  });
  afterAll(async () => {
    await tg?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("the Debian packages it builds with are installed", () => {
    const missing = tools.filter((t) => !existsSync(t.path)).map((t) => t.pkg);
    expect(missing, `install with apt-get (bash .ci/run does): ${missing.join(" ")}`).toEqual([]);
  });

  it("runs the whole SWF flow: registration, a 1 s-deadline poll answered empty, the Fault detail, decision, streamed activity, completion", async () => {
    // Generate as the README says, into a temporary folder (-o prefixes the template's out).
    const gen = spawnSync(join(bin, "buf"), ["generate", "--template", "examples/python/buf.gen.yaml", "-o", work], {
      cwd: root,
      env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` },
      encoding: "utf8",
    });
    expect(gen.status, gen.stderr).toBe(0);

    const domain = `python-${process.pid}`;
    // Debian's interpreter by its path (its dist-packages hold grpcio), not whatever python3 PATH finds.
    const env = { ...process.env, PYTHONPATH: join(work, "examples", "python", "gen"), PYTHONDONTWRITEBYTECODE: "1" };
    const script = join(root, "examples", "python", "swf_flow.py");
    const out = await run("/usr/bin/python3", [script, "--addr", `127.0.0.1:${tg.port}`, "--domain", domain], env, 110_000);
    const lines = out.trim().split("\n");
    expect(lines.length, out).toBe(expectedLines.length);
    const matches = expectedLines.map((e, i) => {
      const m = e.pattern.exec(lines[i]);
      expect(m, `${e.step}: ${lines[i]}`).not.toBeNull();
      return m as RegExpExecArray;
    });
    expect(matches[0][1]).toBe(domain);
    // Answered before the 1 s deadline, not at the server's 60 s hold.
    expect(Number(matches[1][1])).toBeLessThan(1000);

    // The server's own account of the execution agrees with the program's.
    const [, workflowId, runId] = matches[3];
    const described = await tg.connect.describeWorkflowExecution({ domain, execution: { workflowId, runId } });
    expect(described.executionInfo?.executionStatus).toBe(ExecutionStatus.CLOSED);
    expect(described.executionInfo?.closeStatus).toBe(CloseStatus.COMPLETED);
    const history = await tg.connect.getWorkflowExecutionHistory({ domain, execution: { workflowId, runId } });
    const completed = history.events.find((e) => e.eventType === EventType.ACTIVITY_TASK_COMPLETED);
    expect(completed?.activityTaskCompletedEventAttributes?.result).toBe("hello, world");
    const started = history.events.find((e) => e.eventType === EventType.ACTIVITY_TASK_STARTED);
    expect(started?.activityTaskStartedEventAttributes?.identity).toBe("python-worker");
  }, 120_000);
});
