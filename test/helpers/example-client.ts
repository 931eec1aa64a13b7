// What the Go and Python example tests share: running a program to its end, generating code with
// buf as the examples' READMEs say, the flow's expected output line by line, and the server's own
// account of the execution the program ran.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CloseStatus, EventType, ExecutionStatus } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { startTaskgate, type Taskgate } from "./harness.ts";

/** The repository's root. */
export const root = join(import.meta.dirname, "../..");
const bin = join(root, "node_modules", ".bin");

/** A file a test needs on this machine, and the Debian package that brings it. */
export interface Tool {
  path: string;
  pkg: string;
}

/** The packages of `tools` whose files are missing (the test names them, for apt-get). */
export function missingPackages(tools: readonly Tool[]): string[] {
  return tools.filter((t) => !existsSync(t.path)).map((t) => t.pkg);
}

/**
 * The fixture of an example-client suite, registered in the calling `describe`: a taskgate with
 * the real hold time (so a client's 1 s deadline is the shorter one) and a temporary work folder,
 * both removed after the suite, and a first test that the Debian packages of `tools` are
 * installed. Read `tg` and `work` inside tests.
 */
export function exampleSuite(tools: readonly Tool[], name: string): { readonly tg: Taskgate; readonly work: string } {
  const fx: { tg?: Taskgate; work?: string } = {};
  beforeAll(async () => {
    fx.tg = await startTaskgate({ longPollSeconds: 60 });
    fx.work = mkdtempSync(join(tmpdir(), `taskgate-example-${name}-`));
  });
  afterAll(async () => {
    await fx.tg?.destroy();
    if (fx.work) rmSync(fx.work, { recursive: true, force: true });
  });
  it("the Debian packages it builds with are installed", () => {
    const missing = missingPackages(tools);
    expect(missing, `install with apt-get (bash .ci/run does): ${missing.join(" ")}`).toEqual([]);
  });
  return {
    get tg() {
      return fx.tg!;
    },
    get work() {
      return fx.work!;
    },
  };
}

/** Generates code with `buf generate --template <template> -o <out>` (the npm buf, plugins from PATH). */
export function bufGenerate(template: string, out: string): void {
  const gen = spawnSync(join(bin, "buf"), ["generate", "--template", template, "-o", out], {
    cwd: root,
    env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` },
    encoding: "utf8",
  });
  expect(gen.status, gen.stderr).toBe(0);
}

/** Runs a command to its end; rejects with its output when it fails or outlives `timeoutMs`. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
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

/**
 * Checks an example's output against the flow both examples print, line by line in order
 * (`faultCode` is how the language spells gRPC's NOT_FOUND), then the server's own account of the
 * execution: closed COMPLETED, the activity's result and the worker's identity.
 */
export async function expectSwfFlow(tg: Taskgate, out: string, opts: { domain: string; faultCode: string; identity: string }): Promise<void> {
  const expectedLines: { step: string; pattern: RegExp }[] = [
    { step: "registration", pattern: /^registered domain (\S+), workflow type hello\/1, activity type greet\/1$/ },
    { step: "1 s-deadline long poll", pattern: /^long poll with a 1 s deadline: empty result after (\d+) ms \(status OK\)$/ },
    { step: "fault detail", pattern: new RegExp(`^fault: ${opts.faultCode} UnknownResourceFault \\(com\\.amazonaws\\.swf\\.base\\.model\\): Unknown domain: no-such-domain$`) },
    { step: "start", pattern: /^started (hello-\d+) run (\S+)$/ },
    { step: "first decision", pattern: /^decision task with 3 events: scheduled greet-1$/ },
    { step: "streamed activity", pattern: /^activity task from the stream: greet-1 input "world"$/ },
    { step: "activity completed", pattern: /^completed greet-1$/ },
    { step: "closing decision", pattern: /^decision task with \d+ events: completed the workflow with "hello, world"$/ },
    { step: "closed", pattern: /^execution hello-\d+: EXECUTION_STATUS_CLOSED CLOSE_STATUS_COMPLETED$/ },
  ];
  const lines = out.trim().split("\n");
  expect(lines.length, out).toBe(expectedLines.length);
  const matches = expectedLines.map((e, i) => {
    const m = e.pattern.exec(lines[i]);
    expect(m, `${e.step}: ${lines[i]}`).not.toBeNull();
    return m as RegExpExecArray;
  });
  expect(matches[0][1]).toBe(opts.domain);
  // Answered before the 1 s deadline, not at the server's 60 s hold.
  expect(Number(matches[1][1])).toBeLessThan(1000);

  // The server's own account of the execution agrees with the program's.
  const [, workflowId, runId] = matches[3];
  const { domain } = opts;
  const described = await tg.connect.describeWorkflowExecution({ domain, execution: { workflowId, runId } });
  expect(described.executionInfo?.executionStatus).toBe(ExecutionStatus.CLOSED);
  expect(described.executionInfo?.closeStatus).toBe(CloseStatus.COMPLETED);
  const history = await tg.connect.getWorkflowExecutionHistory({ domain, execution: { workflowId, runId } });
  const completed = history.events.find((e) => e.eventType === EventType.ACTIVITY_TASK_COMPLETED);
  expect(completed?.activityTaskCompletedEventAttributes?.result).toBe("hello, world");
  const started = history.events.find((e) => e.eventType === EventType.ACTIVITY_TASK_STARTED);
  expect(started?.activityTaskStartedEventAttributes?.identity).toBe(opts.identity);
}
