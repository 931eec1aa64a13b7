// gRPC health checking and server reflection, through Connect/gRPC clients of the generated
// grpc.health.v1 and grpc.reflection descriptors, and through buf curl (a grpc-go client that
// knows no taskgate proto):
// - health: SERVING, then NOT_SERVING across a store outage and back, Watch following each change;
//   NOT_SERVING and the end of every Watch on shutdown, also of a real process on SIGTERM;
// - reflection: every mounted service listed; each service's file with all it depends on, enough
//   to build a registry in which every method's input and output resolve; symbols, files and
//   extensions found, unknown ones answered NOT_FOUND on a stream that stays open.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { create, createFileRegistry, fromBinary, type DescService, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.ts";
import { ServerReflection, type ServerReflectionRequestSchema, type ServerReflectionResponse } from "../../gen/grpc/reflection/v1/reflection_pb.ts";
import { ServerReflection as ServerReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.ts";
import { long_poll_seconds } from "../../gen/taskgate/common/v1/options_pb.ts";
import type { Database } from "../../src/store/db.ts";
import { startTaskgate, type Taskgate } from "../helpers/harness.ts";

const root = join(import.meta.dirname, "../..");

/** A database whose health the test switches (the store itself keeps working). */
function switchable(db: Database, up: { value: boolean }): Database {
  return new Proxy(db, {
    get(target, key) {
      if (key === "healthy") return () => up.value && target.healthy();
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Reads a stream's messages one at a time. */
function reader<T>(stream: AsyncIterable<T>): { next(): Promise<IteratorResult<T>> } {
  const it = stream[Symbol.asyncIterator]();
  return { next: () => it.next() };
}

const transports: { name: string; make: (url: string) => Transport }[] = [
  { name: "gRPC", make: (url) => createGrpcTransport({ baseUrl: url }) },
  { name: "Connect", make: (url) => createConnectTransport({ baseUrl: url, httpVersion: "2" }) },
];

describe("gRPC health", () => {
  const up = { value: true };
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate({ wrapDb: (db) => switchable(db, up) });
  });
  afterAll(() => tg.destroy());

  for (const t of transports) {
    it(`${t.name}: Check answers for the server and every mounted service, NOT_FOUND for others; List names them all`, async () => {
      const health = createClient(Health, t.make(tg.url));
      const names = tg.app.services.map((s) => s.desc.typeName);
      expect(names).toEqual(expect.arrayContaining(["taskgate.swf.v1.SimpleWorkflowService", "taskgate.sfn.v1.StepFunctionsService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]));
      for (const service of ["", ...names]) expect((await health.check({ service })).status).toBe(Status.SERVING);
      const err = await health.check({ service: "taskgate.nope.v1.Nope" }).catch((e: unknown) => ConnectError.from(e));
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.NotFound);
      expect((err as ConnectError).rawMessage).toContain("taskgate.nope.v1.Nope");
      const list = await health.list({});
      expect(Object.keys(list.statuses).sort()).toEqual(["", ...names].sort());
      for (const s of Object.values(list.statuses)) expect(s.status).toBe(Status.SERVING);
    });
  }

  it("across a store outage: Check and Watch say NOT_SERVING, then SERVING again", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: tg.url }));
    const abort = new AbortController();
    const overall = reader(health.watch({ service: "" }, { signal: abort.signal }));
    const swf = reader(health.watch({ service: "taskgate.swf.v1.SimpleWorkflowService" }, { signal: abort.signal }));
    const unknown = reader(health.watch({ service: "taskgate.nope.v1.Nope" }, { signal: abort.signal }));
    try {
      expect((await overall.next()).value?.status).toBe(Status.SERVING);
      expect((await swf.next()).value?.status).toBe(Status.SERVING);
      expect((await unknown.next()).value?.status).toBe(Status.SERVICE_UNKNOWN);

      up.value = false;
      expect((await health.check({ service: "" })).status).toBe(Status.NOT_SERVING);
      expect((await health.check({ service: "taskgate.sfn.v1.StepFunctionsService" })).status).toBe(Status.NOT_SERVING);
      expect((await overall.next()).value?.status).toBe(Status.NOT_SERVING);
      expect((await swf.next()).value?.status).toBe(Status.NOT_SERVING);
      expect((await fetch(`${tg.url}/healthz`)).status).toBe(503);

      up.value = true;
      expect((await overall.next()).value?.status).toBe(Status.SERVING);
      expect((await swf.next()).value?.status).toBe(Status.SERVING);
      expect((await health.check({ service: "" })).status).toBe(Status.SERVING);
    } finally {
      abort.abort();
    }
  }, 20_000);
});

describe("gRPC health on shutdown", () => {
  it("in-process: every Watch receives NOT_SERVING and ends, and does not hold the shutdown up", async () => {
    const tg = await startTaskgate({ config: { shutdownGraceSeconds: 30 } });
    try {
      const health = createClient(Health, createGrpcTransport({ baseUrl: tg.url }));
      const watches = [reader(health.watch({ service: "" })), reader(health.watch({ service: "taskgate.swf.v1.SimpleWorkflowService" }))];
      for (const w of watches) expect((await w.next()).value?.status).toBe(Status.SERVING);
      const stopping = tg.stop();
      for (const w of watches) {
        expect((await w.next()).value?.status).toBe(Status.NOT_SERVING);
        expect((await w.next()).done).toBe(true);
      }
      const started = performance.now();
      await stopping;
      // Far inside the 30 s grace period: nothing waited for it.
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(tg.app.ready()).toBe(false);
    } finally {
      await tg.destroy();
    }
  }, 30_000);

  it("a taskgate process on SIGTERM: Watch receives NOT_SERVING, the stream ends, the process exits 0", async () => {
    const child = spawn(join(root, "node_modules/.bin/node"), [join(root, "src/main.ts"), "--port", "0", "--database", "sqlite::memory:", "--log-level", "info"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString("utf8");
          const m = /taskgate listening on (http:\/\/[^"\s]+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.once("exit", () => reject(new Error(`taskgate exited before listening: ${out}`)));
      });
      const health = createClient(Health, createGrpcTransport({ baseUrl: url }));
      const watch = reader(health.watch({ service: "" }));
      expect((await watch.next()).value?.status).toBe(Status.SERVING);
      expect((await health.check({ service: "taskgate.swf.v1.SimpleWorkflowService" })).status).toBe(Status.SERVING);
      child.kill("SIGTERM");
      expect((await watch.next()).value?.status).toBe(Status.NOT_SERVING);
      expect((await watch.next()).done).toBe(true);
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 30_000);
});

/** One reflection request and its answer, on a stream of its own. */
async function reflect(client: Client<typeof ServerReflection>, requests: MessageInitShape<typeof ServerReflectionRequestSchema>[]): Promise<ServerReflectionResponse[]> {
  const out: ServerReflectionResponse[] = [];
  for await (const r of client.serverReflectionInfo(
    (async function* () {
      for (const q of requests) yield q;
    })(),
  ))
    out.push(r);
  return out;
}

function files(r: ServerReflectionResponse): FileDescriptorProto[] {
  if (r.messageResponse.case !== "fileDescriptorResponse") throw new Error(`expected files, got ${r.messageResponse.case ?? "nothing"}: ${JSON.stringify(r.messageResponse.value)}`);
  return r.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
}

/** The files in an order where each comes after its imports (what a FileDescriptorSet registry needs); throws on a missing import. */
function dependenciesFirst(files: FileDescriptorProto[]): FileDescriptorProto[] {
  const byName = new Map(files.map((f) => [f.name, f]));
  const out: FileDescriptorProto[] = [];
  const visit = (f: FileDescriptorProto): void => {
    if (out.includes(f)) return;
    for (const d of f.dependency) {
      const dep = byName.get(d);
      if (dep === undefined) throw new Error(`${f.name} imports ${d}, which the answer lacks`);
      visit(dep);
    }
    out.push(f);
  };
  for (const f of files) visit(f);
  return out;
}

describe("gRPC server reflection", () => {
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate();
  });
  afterAll(() => tg.destroy());

  const versions = [
    { name: "v1", desc: ServerReflection },
    { name: "v1alpha", desc: ServerReflectionV1alpha as unknown as typeof ServerReflection },
  ];

  for (const v of versions) {
    it(`${v.name}: lists every mounted service`, async () => {
      const client = createClient(v.desc, createGrpcTransport({ baseUrl: tg.url }));
      const [r] = await reflect(client, [{ messageRequest: { case: "listServices", value: "" } }]);
      expect(r.messageResponse.case).toBe("listServicesResponse");
      const listed = r.messageResponse.case === "listServicesResponse" ? r.messageResponse.value.service.map((s) => s.name) : [];
      expect(listed.sort()).toEqual(tg.app.services.map((s) => s.desc.typeName).sort());
      expect(listed).toEqual(expect.arrayContaining(["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection", "taskgate.swf.v1.SimpleWorkflowService", "taskgate.sfn.v1.StepFunctionsService"]));
    });

    it(`${v.name}: each service's file, with what it depends on, describes every method`, async () => {
      const client = createClient(v.desc, createGrpcTransport({ baseUrl: tg.url }));
      for (const s of tg.app.services.map((x) => x.desc as DescService)) {
        const [r] = await reflect(client, [{ messageRequest: { case: "fileContainingSymbol", value: s.typeName } }]);
        const got = files(r);
        expect(got[0].name).toBe(s.file.proto.name);
        // Built from the answer alone: every import is in it.
        const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: dependenciesFirst(got) }));
        const svc = registry.getService(s.typeName);
        expect(svc?.methods.map((m) => m.name)).toEqual(s.methods.map((m) => m.name));
        for (const m of s.methods) {
          expect(registry.getMessage(m.input.typeName)).toBeDefined();
          expect(registry.getMessage(m.output.typeName)).toBeDefined();
        }
      }
    });
  }

  it("finds files by name, symbols of every kind and extensions; unknown ones are NOT_FOUND and the stream goes on", async () => {
    const client = createClient(ServerReflection, createGrpcTransport({ baseUrl: tg.url }));
    const swfFile = tg.app.services.find((s) => s.desc.typeName === "taskgate.swf.v1.SimpleWorkflowService")?.desc.file.proto.name ?? "";
    const rs = await reflect(client, [
      { messageRequest: { case: "fileByFilename", value: swfFile } },
      { messageRequest: { case: "fileByFilename", value: swfFile } },
      { messageRequest: { case: "fileContainingSymbol", value: "taskgate.swf.v1.SimpleWorkflowService.PollForActivityTask" } },
      { messageRequest: { case: "fileContainingSymbol", value: "taskgate.swf.v1.PollForActivityTaskRequest.task_list" } },
      { messageRequest: { case: "fileContainingSymbol", value: "grpc.health.v1.HealthCheckResponse.SERVING" } },
      { messageRequest: { case: "fileContainingSymbol", value: "taskgate.nope.v1.Nope" } },
      { messageRequest: { case: "fileByFilename", value: "nope.proto" } },
      { messageRequest: { case: "fileContainingExtension", value: { containingType: "google.protobuf.MethodOptions", extensionNumber: long_poll_seconds.number } } },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "google.protobuf.MethodOptions" } },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "taskgate.nope.v1.Nope" } },
      {},
    ]);
    expect(rs).toHaveLength(11);
    const first = files(rs[0]);
    expect(first[0].name).toBe(swfFile);
    expect(first.map((f) => f.name)).toContain("google/protobuf/timestamp.proto");
    // The same file again on the same stream: itself, without the dependencies already sent.
    expect(files(rs[1]).map((f) => f.name)).toEqual([swfFile]);
    expect(files(rs[2])[0].name).toBe(swfFile);
    expect(files(rs[3])[0].name).toMatch(/^taskgate\/swf\/v1\//);
    expect(files(rs[4])[0].name).toBe("grpc/health/v1/health.proto");
    for (const i of [5, 6, 9]) {
      expect(rs[i].messageResponse.case).toBe("errorResponse");
      expect(rs[i].messageResponse.value).toMatchObject({ errorCode: Code.NotFound });
    }
    expect(files(rs[7])[0].name).toBe(long_poll_seconds.file.proto.name);
    expect(rs[8].messageResponse.case).toBe("allExtensionNumbersResponse");
    expect(rs[8].messageResponse.value).toMatchObject({ baseTypeName: "google.protobuf.MethodOptions", extensionNumber: [long_poll_seconds.number] });
    expect(rs[10].messageResponse).toMatchObject({ case: "errorResponse", value: { errorCode: Code.InvalidArgument } });
    expect(rs[5].originalRequest?.messageRequest).toEqual({ case: "fileContainingSymbol", value: "taskgate.nope.v1.Nope" });
  });

  it("buf curl lists the services and calls a method from reflection alone", async () => {
    const base = ["curl", "--protocol", "grpc", "--http2-prior-knowledge"];
    const list = await buf([...base, "--list-services", tg.url]);
    expect(list.stderr).toBe("");
    expect(list.stdout.trim().split("\n").sort()).toEqual(tg.app.services.map((s) => s.desc.typeName).sort());
    const call = await buf([...base, "-d", '{"registrationStatus":"REGISTRATION_STATUS_REGISTERED"}', `${tg.url}/taskgate.swf.v1.SimpleWorkflowService/ListDomains`]);
    expect(call.stderr).toBe("");
    expect(JSON.parse(call.stdout)).toEqual({});
    const check = await buf([...base, "--reflect-protocol", "grpc-v1alpha", `${tg.url}/grpc.health.v1.Health/Check`]);
    expect(JSON.parse(check.stdout)).toEqual({ status: "SERVING" });
  }, 60_000);
});

/** Runs the buf CLI of node_modules (offline: reflection needs no registry). */
function buf(args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(join(root, "node_modules/.bin/buf"), args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    p.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    p.once("error", reject);
    p.once("close", (code) => resolve({ stdout, stderr, code }));
  });
}
