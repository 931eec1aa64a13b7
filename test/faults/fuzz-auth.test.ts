// The bounded, seeded fuzz with authentication on (--auth sigv4) and a policy in force: SigV4-signed
// AWS JSON requests whose bodies are malformed JSON, a wrong type for every member of every SWF
// operation, huge strings, deep nesting, invalid UTF-8 and NULs; bearer-authenticated Connect
// requests with malformed JSON and protobuf; signed bodies cut off mid-way and signed bodies sent
// slowly. No answer is a server error; a correctly signed request is never refused for its
// signature whatever its body (the signature covers the bytes as sent); a principal the policy
// limits gets OperationNotPermittedFault or a validation error, never a 5xx; and the server serves
// normally afterwards.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as http from "node:http";
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignatureV4 } from "@smithy/signature-v4";
import { HttpRequest } from "@smithy/protocol-http";
import { Hash } from "@smithy/hash-node";
import { ListDomainsCommand, SWFClient } from "@aws-sdk/client-swf";
import type { DescMethod } from "@bufbuild/protobuf";
import { loadModel } from "../../src/model/model.ts";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { startTaskgate, type Taskgate } from "../helpers/harness.ts";
import { baseline, members, withMember, type Fixture, type MemberKind } from "../awsjson/model-requests.ts";

const SEED = 0xa17_5eed;
const model = loadModel("swf");

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const admin = {
  name: "admin",
  accessKeyId: "AKIATASKGATEFUZZADM1",
  secretAccessKey: "fuzz-admin-secret-0123456789",
  policies: [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }],
};
const limited = {
  name: "limited",
  accessKeyId: "AKIATASKGATEFUZZLIM1",
  secretAccessKey: "fuzz-limited-secret-0123456789",
  policies: [
    {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "swf:Poll*", Resource: "arn:aws:swf:*:*:/domain/fuzz", Condition: { StringLike: { "swf:taskList.name": "ok-*" } } }],
    },
  ],
};

const wrongValues: Record<MemberKind, unknown[]> = {
  string: [123, { s: 1 }, ["x"], true],
  enum: [7, { e: 1 }, "NOT_A_VALUE"],
  integer: ["12x", [], 1.5, 1e300],
  long: ["12x", {}, 2 ** 80],
  double: ["one", []],
  boolean: ["true", 1, {}],
  timestamp: ["yesterday", {}],
  blob: [5, {}],
  structure: [[], "s", 5],
  list: [{}, "s", 5],
  map: [[], "m"],
};

interface Reply {
  status: number;
  body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function send(port: number, path: string, headers: Record<string, string>, body: Uint8Array): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  });
}

/** SigV4 headers for a POST / of `target` with `body`, signed by `who`. */
async function signed(port: number, who: { accessKeyId: string; secretAccessKey: string }, target: string, body: Uint8Array): Promise<Record<string, string>> {
  const signer = new SignatureV4({ service: "swf", region: "us-east-1", credentials: who, sha256: Hash.bind(null, "sha256") });
  const req = await signer.sign(
    new HttpRequest({
      method: "POST",
      protocol: "http:",
      hostname: "127.0.0.1",
      port,
      path: "/",
      headers: { host: `127.0.0.1:${port}`, "content-type": "application/x-amz-json-1.0", "x-amz-target": target, "content-length": String(body.length) },
      body,
    }),
  );
  return req.headers as Record<string, string>;
}

/** Answers that say the signature itself was refused. */
const SIGNATURE_FAULTS = /InvalidSignatureException|IncompleteSignatureException|MissingAuthenticationToken|UnrecognizedClient/;

interface Case {
  name: string;
  /** Whether the request is correctly signed (its answer must then not be a signature refusal). */
  signed: boolean;
  send: () => Promise<Reply>;
}

describe("fuzz with authentication on", () => {
  let tg: Taskgate;
  let dir = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "taskgate-fuzz-auth-"));
    const file = join(dir, "principals.json");
    writeFileSync(file, JSON.stringify({ principals: [admin, limited] }));
    tg = await startTaskgate({ longPollSeconds: 0.05, config: { auth: "sigv4", authFile: file } });
  });
  afterAll(async () => {
    await tg?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("no server error, no signature refused for its body, and the server serves afterwards", { timeout: 120_000 }, async () => {
    const rnd = random(SEED);
    const port = tg.port;
    const fx: Fixture = { domain: "fuzz", workflowType: { name: "wf", version: "1" }, activityType: { name: "act", version: "1" }, taskList: "ok-list", workflowId: "w", runId: "r" };
    const cases: Case[] = [];
    const aws = (name: string, op: string, body: Uint8Array | string, who = admin): void => {
      const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
      cases.push({ name, signed: true, send: async () => send(port, "/", await signed(port, who, `SimpleWorkflowService.${op}`, bytes), bytes) });
    };
    const bearer = `Bearer ${admin.accessKeyId}:${admin.secretAccessKey}`;
    const connect = (name: string, m: DescMethod, contentType: string, body: Uint8Array | string): void => {
      const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
      cases.push({ name, signed: true, send: () => send(port, `/${SimpleWorkflowService.typeName}/${m.name}`, { "content-type": contentType, authorization: bearer }, bytes) });
    };
    const ops = Object.keys(model.operations);

    // 1. A wrong type for every member of every operation, signed; the limited principal too.
    for (const op of ops) {
      const base = baseline(model, op, fx);
      for (const member of members(model, op)) {
        const values = wrongValues[member.kind];
        const v = values[Math.floor(rnd() * values.length)];
        aws(`wrong type ${op}.${member.path.join(".")}`, op, JSON.stringify(withMember(base, member.path, v)), rnd() < 0.3 ? limited : admin);
      }
      aws(`baseline ${op} by the limited principal`, op, JSON.stringify(base), limited);
    }
    // 2. Malformed JSON, signed: random bytes, truncations, invalid UTF-8, NULs, lone surrogates.
    for (let i = 0; i < 120; i++) {
      const op = ops[Math.floor(rnd() * ops.length)];
      const valid = Buffer.from(JSON.stringify(baseline(model, op, fx)));
      const body = i % 2 === 0 ? Uint8Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)) : valid.subarray(0, Math.floor(rnd() * valid.length));
      aws(`malformed JSON #${i} for ${op}`, op, body);
    }
    aws("invalid UTF-8", "DescribeDomain", Uint8Array.from([...Buffer.from('{"name":"'), 0xff, 0xfe, 0xc3, 0x28, ...Buffer.from('"}')]));
    aws("NULs", "DescribeDomain", JSON.stringify({ name: "\u0000".repeat(2000) }));
    aws("lone surrogate", "DescribeDomain", '{"name":"\\ud800"}');
    // 3. Huge strings and lists, deep nesting (the body limit is about 1 MiB).
    aws("huge string", "DescribeDomain", JSON.stringify({ name: "x".repeat(1_000_000) }));
    aws("body over the limit", "DescribeDomain", JSON.stringify({ name: "x".repeat(1_200_000) }));
    aws("huge list", "ListOpenWorkflowExecutions", JSON.stringify({ domain: "fuzz", startTimeFilter: { oldestDate: 0 }, tagFilter: { tag: Array.from({ length: 100_000 }, () => "t") } }));
    aws("deep arrays", "DescribeDomain", `{"name":${"[".repeat(50_000)}${"]".repeat(50_000)}}`);
    aws("deep objects", "DescribeDomain", `${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}`);
    // 4. Connect with a bearer token: malformed JSON and protobuf to every unary method.
    const unary = SimpleWorkflowService.methods.filter((m) => m.methodKind === "unary");
    for (let i = 0; i < 120; i++) {
      const m = unary[Math.floor(rnd() * unary.length)];
      const junk = Uint8Array.from({ length: Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256));
      if (i % 2 === 0) connect(`Connect proto junk #${i} ${m.name}`, m, "application/proto", junk);
      else connect(`Connect JSON junk #${i} ${m.name}`, m, "application/json", junk);
    }
    // 5. A signature over a body other than the one sent (a tampered body): refused, not a 5xx.
    cases.push({
      name: "tampered body",
      signed: false,
      send: async () => {
        const h = await signed(port, admin, "SimpleWorkflowService.ListDomains", Buffer.from('{"registrationStatus":"REGISTERED"}'));
        return send(port, "/", h, Buffer.from('{"registrationStatus":"DEPRECATED"}'));
      },
    });

    expect(cases.length).toBeGreaterThan(400);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < cases.length; i += 8) {
      await Promise.all(
        cases.slice(i, i + 8).map(async (c) => {
          const r = await c.send();
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status >= 500) failures.push(`${c.name}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
          else if (c.signed && SIGNATURE_FAULTS.test(r.body)) failures.push(`${c.name}: signature refused: ${r.body.slice(0, 200)}`);
          else if (!c.signed && !/InvalidSignatureException/.test(r.body)) failures.push(`${c.name}: expected InvalidSignatureException, got ${r.status} ${r.body.slice(0, 200)}`);
        }),
      );
    }
    expect(failures).toEqual([]);
    // The bodies were read and judged: most are refused as malformed, some served, one too large.
    expect(statuses.get(400)).toBeGreaterThan(300);
    expect(statuses.get(413)).toBe(1);

    // 6. Signed bodies cut off mid-way (the connection closes) and sent slowly.
    const body = Buffer.from('{"registrationStatus":"REGISTERED"}');
    const headers = await signed(port, admin, "SimpleWorkflowService.ListDomains", body);
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(port, "127.0.0.1", () => {
          const head = Object.entries(headers)
            .map(([k, v]) => `${k}: ${v}\r\n`)
            .join("");
          socket.write(`POST / HTTP/1.1\r\n${head}\r\n`);
          socket.end(body.subarray(0, 5 + i * 3));
        });
        socket.on("error", () => undefined);
        socket.on("close", () => resolve());
        socket.resume();
      });
    }
    const slow = await new Promise<Reply>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/", headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      });
      req.on("error", reject);
      let at = 0;
      const next = (): void => {
        req.write(body.subarray(at, at + 7));
        at += 7;
        if (at < body.length) setTimeout(next, 30);
        else req.end();
      };
      next();
    });
    expect(slow.status).toBe(200);

    // The server serves normally afterwards.
    expect((await fetch(`${tg.url}/healthz`)).status).toBe(200);
    const sdk = new SWFClient({ endpoint: tg.url, region: "us-east-1", credentials: admin, maxAttempts: 1 });
    await expect(sdk.send(new ListDomainsCommand({ registrationStatus: "REGISTERED" }))).resolves.toBeDefined();
  });
});
