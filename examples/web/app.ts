// A Connect web app calling taskgate from another origin, over the Connect protocol and gRPC-Web
// (@connectrpc/connect-web, the browser's fetch): a unary call, the Fault detail of a failure, a
// long poll with a 1 s deadline, and a StreamActivityTasks server stream feeding an SWF workflow
// to its end. Bundled for the browser by esbuild (examples/web/serve.ts).
//
// taskgate's URL comes from the page's query (?taskgate=http://127.0.0.1:8080, the default), and
// taskgate must list this page's origin in --cors-origins. The page shows one row per protocol and
// check, and when everything has run puts the results as JSON in #results and sets
// document.body.dataset.done = "true" (what test/e2e/browser.test.ts waits for).
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { FaultSchema } from "../../gen/taskgate/common/v1/options_pb.ts";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { ChildPolicy, DecisionType, EventType, RegistrationStatus } from "../../gen/taskgate/swf/v1/types_pb.ts";

/** One check's outcome, as the page shows it and the test reads it. */
interface CheckResult {
  protocol: string;
  check: string;
  ok: boolean;
  detail: string;
  ms: number;
}

type Swf = Client<typeof SimpleWorkflowService>;

const baseUrl = new URLSearchParams(location.search).get("taskgate") ?? "http://127.0.0.1:8080";
const protocols: { name: string; transport: Transport }[] = [
  { name: "connect", transport: createConnectTransport({ baseUrl }) },
  { name: "grpc-web", transport: createGrpcWebTransport({ baseUrl }) },
];
const results: CheckResult[] = [];

function show(r: CheckResult): void {
  const row = document.createElement("tr");
  for (const [text, cls] of [[r.protocol], [r.check], [r.ok ? "ok" : "failed", r.ok ? "ok" : "failed"], [r.detail], [String(r.ms)]]) {
    const cell = document.createElement("td");
    cell.textContent = text;
    if (cls !== undefined) cell.className = cls;
    row.append(cell);
  }
  document.getElementById("checks")?.append(row);
}

/** Runs one check: its detail on success, the error's message on failure. */
async function check(protocol: string, name: string, body: () => Promise<string>): Promise<void> {
  const began = performance.now();
  let r: CheckResult;
  try {
    r = { protocol, check: name, ok: true, detail: await body(), ms: 0 };
  } catch (e) {
    r = { protocol, check: name, ok: false, detail: e instanceof Error ? e.message : String(e), ms: 0 };
  }
  r.ms = Math.round(performance.now() - began);
  results.push(r);
  show(r);
}

/** Lets a second run reuse what the first registered. */
function ignoreExists(e: unknown): void {
  if (!(e instanceof ConnectError && e.code === Code.AlreadyExists)) throw e;
}

async function register(swf: Swf, domain: string): Promise<void> {
  await swf.registerDomain({ name: domain, workflowExecutionRetentionPeriodInDays: "1" }).catch(ignoreExists);
  await swf
    .registerWorkflowType({
      domain,
      name: "web",
      version: "1",
      defaultTaskList: { name: "deciders" },
      defaultExecutionStartToCloseTimeout: "3600",
      defaultTaskStartToCloseTimeout: "30",
      defaultChildPolicy: ChildPolicy.TERMINATE,
    })
    .catch(ignoreExists);
  await swf
    .registerActivityType({
      domain,
      name: "item",
      version: "1",
      defaultTaskList: { name: "workers" },
      defaultTaskScheduleToStartTimeout: "NONE",
      defaultTaskScheduleToCloseTimeout: "NONE",
      defaultTaskStartToCloseTimeout: "300",
      defaultTaskHeartbeatTimeout: "NONE",
    })
    .catch(ignoreExists);
}

/** The next decision task of the deciders' list (an empty answer means the hold passed idle). */
async function nextDecision(swf: Swf, domain: string): Promise<{ taskToken: string; eventTypes: EventType[] }> {
  for (;;) {
    const t = await swf.pollForDecisionTask({ domain, taskList: { name: "deciders" }, identity: "web-decider" });
    if (t.taskToken) return { taskToken: t.taskToken, eventTypes: t.events.map((e) => e.eventType) };
  }
}

async function runProtocol(protocol: string, transport: Transport): Promise<void> {
  const swf = createClient(SimpleWorkflowService, transport);
  const domain = `web-${protocol}`;

  await check(protocol, "unary", async () => {
    await register(swf, domain);
    const d = await swf.describeDomain({ name: domain });
    if (d.domainInfo?.name !== domain || d.domainInfo.status !== RegistrationStatus.REGISTERED) throw new Error(`DescribeDomain answered ${JSON.stringify(d.domainInfo)}`);
    return `DescribeDomain ${domain}: REGISTERED`;
  });

  await check(protocol, "fault", async () => {
    const err = await swf.describeDomain({ name: "no-such-domain" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    if (err === undefined) throw new Error("DescribeDomain of a missing domain succeeded");
    const [fault] = err.findDetails(FaultSchema);
    if (fault === undefined) throw new Error(`no Fault detail in ${err.message}`);
    return `${Code[err.code]} ${fault.name}: ${fault.message}`;
  });

  await check(protocol, "server stream", async () => {
    const workflowId = `web-${protocol}-${Date.now()}`;
    await swf.startWorkflowExecution({ domain, workflowId, workflowType: { name: "web", version: "1" } });
    const first = await nextDecision(swf, domain);
    const items = ["item-0", "item-1", "item-2"];
    await swf.respondDecisionTaskCompleted({
      taskToken: first.taskToken,
      decisions: items.map((activityId) => ({
        decisionType: DecisionType.SCHEDULE_ACTIVITY_TASK,
        scheduleActivityTaskDecisionAttributes: { activityId, activityType: { name: "item", version: "1" }, input: activityId },
      })),
    });
    const received: string[] = [];
    const stop = new AbortController();
    try {
      for await (const task of swf.streamActivityTasks({ domain, taskList: { name: "workers" }, maxInFlight: 2, identity: `web-${protocol}` }, { signal: stop.signal })) {
        received.push(task.activityId ?? "");
        await swf.respondActivityTaskCompleted({ taskToken: task.taskToken, result: `done ${task.input}` });
        if (received.length === items.length) break;
      }
    } finally {
      stop.abort();
    }
    const last = await nextDecision(swf, domain);
    const completed = last.eventTypes.filter((t) => t === EventType.ACTIVITY_TASK_COMPLETED).length;
    await swf.respondDecisionTaskCompleted({
      taskToken: last.taskToken,
      decisions: [{ decisionType: DecisionType.COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionDecisionAttributes: { result: `${completed} items` } }],
    });
    return `${workflowId}: streamed ${[...received].sort().join(",")}; workflow completed with ${completed} items`;
  });

  await check(protocol, "long poll", async () => {
    const began = performance.now();
    const t = await swf.pollForActivityTask({ domain, taskList: { name: "nobody-schedules-here" } }, { timeoutMs: 1000 });
    const ms = Math.round(performance.now() - began);
    if (t.taskToken) throw new Error("got a task from a task list nobody feeds");
    return `1 s deadline: empty result after ${ms} ms`;
  });
}

async function main(): Promise<void> {
  const target = document.getElementById("target");
  if (target) target.textContent = baseUrl;
  for (const p of protocols) await runProtocol(p.name, p.transport);
  const failed = results.filter((r) => !r.ok).length;
  const status = document.getElementById("status");
  if (status) status.textContent = failed === 0 ? `all ${results.length} checks passed` : `${failed} of ${results.length} checks failed`;
  const pre = document.getElementById("results");
  if (pre) pre.textContent = JSON.stringify(results, null, 2);
  document.body.dataset.done = "true";
}

void main();
