// Connect JSON errors that name the problem, on a real server: a misspelled field names the field,
// the message type and the closest field; an AWS enum spelling says the proto name to send; a
// missing or unsupported Content-Type (415) and an HTTP method the route does not take (405)
// say what is accepted. Every content type the 415 message lists is read by the routes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as connectHttp2 } from "node:http2";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { acceptedContentTypes, closestName } from "../../src/faults-connect.ts";
import { startTaskgate, type Taskgate } from "../helpers/harness.ts";

const svc = "/taskgate.swf.v1.SimpleWorkflowService";

interface JsonCase {
  readonly name: string;
  readonly method: string;
  readonly body: string;
  /** The whole message, or patterns it must match. */
  readonly message: string | RegExp[];
  readonly fault?: string;
}

const jsonCases: JsonCase[] = [
  {
    name: "a misspelled field",
    method: "RegisterDomain",
    body: '{"nmae":"d","workflowExecutionRetentionPeriodInDays":"1"}',
    message: "Unknown field 'nmae': taskgate.swf.v1.RegisterDomainRequest has no field 'nmae'. Did you mean 'name'? Its fields are name, description, workflowExecutionRetentionPeriodInDays, tags.",
    fault: "SerializationException",
  },
  { name: "a field in another case", method: "DescribeDomain", body: '{"Name":"d"}', message: [/^Unknown field 'Name': taskgate\.swf\.v1\.DescribeDomainRequest has no field 'Name'\. Did you mean 'name'\?/] },
  {
    name: "a snake_case field one letter off",
    method: "RegisterDomain",
    body: '{"name":"d","workflow_execution_retention_period_in_day":"1"}',
    message: [/has no field 'workflow_execution_retention_period_in_day'\. Did you mean 'workflowExecutionRetentionPeriodInDays'\?/],
  },
  {
    name: "a nested field, by its path",
    method: "ListOpenWorkflowExecutions",
    body: '{"domain":"d","startTimeFilter":{"oldest":"2020-01-01T00:00:00Z"}}',
    message: [/^Unknown field 'startTimeFilter\.oldest': taskgate\.swf\.v1\.ExecutionTimeFilter has no field 'oldest'\. Did you mean 'oldestDate'\? Its fields are oldestDate, latestDate\.$/],
  },
  { name: "a field like none", method: "DescribeDomain", body: '{"zzzz":1}', message: "Unknown field 'zzzz': taskgate.swf.v1.DescribeDomainRequest has no field 'zzzz'. Its fields are name." },
  {
    name: "an AWS enum spelling",
    method: "ListDomains",
    body: '{"registrationStatus":"REGISTERED"}',
    message:
      "1 validation error detected: Value 'REGISTERED' at 'registrationStatus' failed to satisfy constraint: Member must satisfy enum value set: [REGISTRATION_STATUS_REGISTERED, REGISTRATION_STATUS_DEPRECATED]. The Connect and gRPC routes take proto enum value names: send 'REGISTRATION_STATUS_REGISTERED' (or 1) for 'REGISTERED'; AWS's spellings are read on the AWS JSON route",
    fault: "ValidationException",
  },
  { name: "an AWS enum spelling in lower case", method: "ListDomains", body: '{"registrationStatus":"deprecated"}', message: [/send 'REGISTRATION_STATUS_DEPRECATED' \(or 2\) for 'deprecated'/] },
  {
    name: "an AWS camel-case enum spelling inside a list",
    method: "RespondDecisionTaskCompleted",
    body: '{"taskToken":"t","decisions":[{"decisionType":"ScheduleActivityTask"}]}',
    message: [/^1 validation error detected: Value 'ScheduleActivityTask' at 'decisions\.1\.member\.decisionType' /, /send 'DECISION_TYPE_SCHEDULE_ACTIVITY_TASK' \(or \d+\) for 'ScheduleActivityTask'/],
  },
  {
    name: "an enum value like none",
    method: "ListDomains",
    body: '{"registrationStatus":"NOPE"}',
    message:
      "1 validation error detected: Value 'NOPE' at 'registrationStatus' failed to satisfy constraint: Member must satisfy enum value set: [REGISTRATION_STATUS_REGISTERED, REGISTRATION_STATUS_DEPRECATED] (proto enum value names, or their numbers)",
  },
];

interface HttpCase {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly status: number;
  readonly message: RegExp;
  readonly header?: [string, RegExp];
}

const unaryTypes = /application\/json \(proto JSON\) or application\/proto \(binary\); gRPC clients application\/grpc, application\/grpc\+proto or application\/grpc\+json \(over HTTP\/2\); gRPC-Web clients application\/grpc-web, application\/grpc-web\+proto or application\/grpc-web\+json\.$/;

const httpCases: HttpCase[] = [
  {
    name: "no Content-Type",
    method: "POST",
    path: `${svc}/ListDomains`,
    headers: {},
    status: 415,
    message: new RegExp(`^The request has no Content-Type for ${svc}/ListDomains\\. Connect clients and curl send ${unaryTypes.source}`),
    header: ["accept-post", /^application\/json, application\/proto, application\/grpc, /],
  },
  { name: "text/plain", method: "POST", path: `${svc}/ListDomains`, headers: { "content-type": "text/plain" }, status: 415, message: new RegExp(`^Content-Type 'text/plain' is not supported for ${svc}/ListDomains\\. Connect clients and curl send ${unaryTypes.source}`) },
  { name: "a codec no route reads", method: "POST", path: `${svc}/ListDomains`, headers: { "content-type": "application/grpc-web+xml" }, status: 415, message: /^Content-Type 'application\/grpc-web\+xml' is not supported/ },
  {
    name: "a unary type on a streaming method",
    method: "POST",
    path: `${svc}/StreamActivityTasks`,
    headers: { "content-type": "application/json" },
    status: 415,
    message: /is not supported for \/taskgate\.swf\.v1\.SimpleWorkflowService\/StreamActivityTasks\. Connect clients and curl send application\/connect\+json or application\/connect\+proto;/,
    header: ["accept-post", /^application\/connect\+json, application\/connect\+proto, /],
  },
  { name: "PUT", method: "PUT", path: `${svc}/RegisterDomain`, headers: { "content-type": "application/json" }, status: 405, message: /^HTTP method 'PUT' is not allowed for \/taskgate\.swf\.v1\.SimpleWorkflowService\/RegisterDomain: send POST\.$/, header: ["allow", /^POST$/] },
  { name: "DELETE on a method without side effects", method: "DELETE", path: `${svc}/DescribeDomain`, headers: {}, status: 405, message: /send POST \(or GET with \?connect=v1&encoding=json&message=/, header: ["allow", /POST/] },
];

describe("Connect JSON errors name the problem", () => {
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate();
  });
  afterAll(() => tg.destroy());

  for (const c of jsonCases) {
    it(c.name, async () => {
      const res = await fetch(`${tg.url}${svc}/${c.method}`, { method: "POST", headers: { "content-type": "application/json" }, body: c.body });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { code: string; message: string; details?: { debug?: { name?: string } }[] };
      expect(body.code).toBe("invalid_argument");
      if (typeof c.message === "string") expect(body.message).toBe(c.message);
      else for (const m of c.message) expect(body.message).toMatch(m);
      if (c.fault) expect(body.details?.[0]?.debug?.name).toBe(c.fault);
    });
  }

  for (const c of httpCases) {
    it(`${c.name}: ${c.status} with a body saying what is accepted`, async () => {
      const res = await fetch(`${tg.url}${c.path}`, { method: c.method, headers: c.headers, body: new TextEncoder().encode("{}") });
      expect(res.status).toBe(c.status);
      expect(res.headers.get("content-type")).toBe("application/json");
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code).toBe("invalid_argument");
      expect(body.message).toMatch(c.message);
      if (c.header) expect(res.headers.get(c.header[0])).toMatch(c.header[1]);
    });
  }

  it("every content type the 415 lists is read by the routes (HTTP/2)", async () => {
    for (const m of [SimpleWorkflowService.method.listDomains, SimpleWorkflowService.method.streamActivityTasks]) {
      for (const type of acceptedContentTypes(m)) {
        const session = connectHttp2(tg.url);
        try {
          const status = await new Promise<number>((resolve, reject) => {
            const s = session.request({ ":method": "POST", ":path": `${svc}/${m.name}`, "content-type": type, te: "trailers" });
            s.on("response", (h) => {
              resolve(Number(h[":status"]));
              s.close();
            });
            s.on("error", reject);
            s.end();
          });
          expect({ type, method: m.name, status: status === 415 }).toEqual({ type, method: m.name, status: false });
        } finally {
          session.close();
        }
      }
    }
  });

  it("the AWS JSON route keeps AWS's spellings and its own Content-Type message", async () => {
    const ok = await fetch(`${tg.url}/`, { method: "POST", headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.ListDomains" }, body: '{"registrationStatus":"REGISTERED"}' });
    expect(ok.status).toBe(200);
    const bad = await fetch(`${tg.url}/`, { method: "POST", headers: { "content-type": "text/plain", "x-amz-target": "SimpleWorkflowService.ListDomains" }, body: "{}" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain("application/x-amz-json-1.0");
  });
});

describe("closestName", () => {
  const names = ["name", "description", "workflowExecutionRetentionPeriodInDays", "tags", "taskList", "taskListScheduleToStartTimeout"];
  const cases: [string, string | undefined][] = [
    ["nmae", "name"],
    ["Name", "name"],
    ["task_list", "taskList"],
    ["TaskList", "taskList"],
    ["taskLst", "taskList"],
    ["tag", "tags"],
    ["retention", undefined],
    ["workflowExecutionRetentionPeriodInDay", "workflowExecutionRetentionPeriodInDays"],
    ["descriptoin", "description"],
    ["zzzz", undefined],
    ["", undefined],
    ["x", undefined],
  ];
  for (const [key, want] of cases) it(`${JSON.stringify(key)} → ${String(want)}`, () => expect(closestName(key, names)).toBe(want));
});
