// CORS on every route of the shared port (src/server/cors.ts): preflights and actual requests of
// each protocol a browser speaks (Connect unary POST and GET, Connect streaming, gRPC-Web, the
// AWS JSON route), from allowed and refused origins, with exact origins, with `*`, and off.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as connectHttp2 } from "node:http2";
import { corsDecision, corsPolicy, CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS } from "../../src/server/cors.ts";
import { ConfigError, parseConfig } from "../../src/server/config.ts";
import { startTaskgate, type Taskgate } from "../helpers/harness.ts";

const APP = "http://app.test:5173";
const OTHER = "https://other.test";

/** A request each protocol a browser speaks sends, by name. */
interface Route {
  readonly name: string;
  readonly path: string;
  readonly method: "POST" | "GET";
  readonly headers: Record<string, string>;
  readonly body?: Uint8Array | string;
  /** The status the route answers (the same with and without CORS). */
  readonly status: number;
}

/** A gRPC-Web / Connect streaming envelope around a JSON or binary message. */
function envelope(data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const out = new Uint8Array(5 + bytes.length);
  new DataView(out.buffer).setUint32(1, bytes.length);
  out.set(bytes, 5);
  return out;
}

const svc = "/taskgate.swf.v1.SimpleWorkflowService";
const routes: Route[] = [
  { name: "Connect unary JSON", path: `${svc}/ListDomains`, method: "POST", headers: { "content-type": "application/json", "connect-protocol-version": "1" }, body: '{"registrationStatus":"REGISTRATION_STATUS_REGISTERED"}', status: 200 },
  { name: "Connect unary error", path: `${svc}/DescribeDomain`, method: "POST", headers: { "content-type": "application/json" }, body: '{"name":"nope"}', status: 404 },
  { name: "Connect GET", path: `${svc}/CountPendingActivityTasks?connect=v1&encoding=json&message=${encodeURIComponent('{"domain":"nope","taskList":{"name":"t"}}')}`, method: "GET", headers: {}, status: 404 },
  { name: "Connect streaming", path: `${svc}/StreamActivityTasks`, method: "POST", headers: { "content-type": "application/connect+json" }, body: envelope('{"domain":"nope","taskList":{"name":"t"}}'), status: 200 },
  { name: "gRPC-Web", path: `${svc}/ListDomains`, method: "POST", headers: { "content-type": "application/grpc-web+json", "x-grpc-web": "1" }, body: envelope('{"registrationStatus":"REGISTRATION_STATUS_REGISTERED"}'), status: 200 },
  { name: "AWS JSON", path: "/", method: "POST", headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.ListDomains" }, body: '{"registrationStatus":"REGISTERED"}', status: 200 },
  { name: "AWS JSON error", path: "/", method: "POST", headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.Nope" }, body: "{}", status: 400 },
  { name: "unknown RPC", path: "/taskgate.nope.v1.Nope/Call", method: "POST", headers: { "content-type": "application/json" }, body: "{}", status: 404 },
];

/** The request headers a browser's preflight for a route asks for. */
function requested(r: Route): string {
  return Object.keys(r.headers).concat(r.path === "/" ? ["x-amz-user-agent", "amz-sdk-invocation-id", "amz-sdk-request", "x-amz-date", "authorization"] : ["connect-timeout-ms", "x-user-agent"]).join(",");
}

function preflight(tg: Taskgate, r: Route, origin: string | undefined): Promise<Response> {
  return fetch(tg.url + r.path, {
    method: "OPTIONS",
    headers: { ...(origin === undefined ? {} : { origin }), "access-control-request-method": r.method, "access-control-request-headers": requested(r) },
  });
}

function actual(tg: Taskgate, r: Route, origin: string | undefined): Promise<Response> {
  return fetch(tg.url + r.path, { method: r.method, headers: { ...r.headers, ...(origin === undefined ? {} : { origin }) }, body: r.body });
}

const list = (v: string | null): string[] => (v ?? "").split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");

describe("CORS with exact origins", () => {
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate({ config: { corsOrigins: [APP, "http://localhost:8000"] } });
  });
  afterAll(() => tg.destroy());

  for (const r of routes) {
    it(`${r.name}: a preflight from an allowed origin is 204 with what the protocol needs`, async () => {
      const res = await preflight(tg, r, APP);
      expect(res.status).toBe(204);
      expect(await res.text()).toBe("");
      expect(res.headers.get("access-control-allow-origin")).toBe(APP);
      expect(res.headers.get("access-control-allow-credentials")).toBe("true");
      expect(list(res.headers.get("access-control-allow-methods"))).toContain(r.method.toLowerCase());
      const allowed = list(res.headers.get("access-control-allow-headers"));
      for (const h of list(requested(r))) expect(allowed).toContain(h);
      expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThan(0);
      expect(list(res.headers.get("vary"))).toContain("origin");
    });

    it(`${r.name}: a preflight from a refused origin is 403 without CORS headers`, async () => {
      const res = await preflight(tg, r, OTHER);
      expect(res.status).toBe(403);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(res.headers.get("access-control-allow-methods")).toBeNull();
    });

    it(`${r.name}: the answer to an allowed origin carries the origin and the exposed headers`, async () => {
      const res = await actual(tg, r, APP);
      expect(res.status).toBe(r.status);
      expect(res.headers.get("access-control-allow-origin")).toBe(APP);
      expect(res.headers.get("access-control-allow-credentials")).toBe("true");
      const exposed = list(res.headers.get("access-control-expose-headers"));
      for (const h of ["grpc-status", "grpc-message", "grpc-status-details-bin", "x-amzn-requestid"]) expect(exposed).toContain(h);
      expect(list(res.headers.get("vary"))).toContain("origin");
      await res.arrayBuffer();
    });

    it(`${r.name}: the answer to a refused origin is the same, without CORS headers`, async () => {
      const res = await actual(tg, r, OTHER);
      expect(res.status).toBe(r.status);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(res.headers.get("access-control-expose-headers")).toBeNull();
      await res.arrayBuffer();
    });
  }

  it("the preflight's allowed headers include what the Connect libraries publish and any x-amz-* / amz-sdk-* asked for", async () => {
    const res = await fetch(`${tg.url}/`, { method: "OPTIONS", headers: { origin: APP, "access-control-request-method": "POST", "access-control-request-headers": "x-amz-new-thing,amz-sdk-other,x-custom" } });
    const allowed = list(res.headers.get("access-control-allow-headers"));
    for (const h of ["connect-protocol-version", "connect-timeout-ms", "x-grpc-web", "grpc-timeout", "x-user-agent", "x-amz-target", "x-amz-new-thing", "amz-sdk-other"]) expect(allowed).toContain(h);
    expect(allowed).not.toContain("x-custom");
  });

  it("an OPTIONS without Origin is no preflight: routed as before", async () => {
    const res = await fetch(`${tg.url}/`, { method: "OPTIONS", headers: { "access-control-request-method": "POST" } });
    expect(res.status).toBe(405);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("gRPC over HTTP/2 with an Origin gets the CORS headers in its response headers too", async () => {
    const session = connectHttp2(tg.url);
    try {
      const head = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const s = session.request({ ":method": "POST", ":path": `${svc}/ListDomains`, "content-type": "application/grpc+json", te: "trailers", origin: APP });
        s.on("response", (h) => resolve(h as Record<string, unknown>));
        s.on("error", reject);
        s.resume();
        s.end(envelope('{"registrationStatus":"REGISTRATION_STATUS_REGISTERED"}'));
      });
      expect(head["access-control-allow-origin"]).toBe(APP);
      expect(head["grpc-status"] ?? head[":status"]).toBeDefined();
    } finally {
      session.close();
    }
  });
});

describe("CORS with * (local development)", () => {
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate({ config: { corsOrigins: ["*", APP] } });
  });
  afterAll(() => tg.destroy());

  it("allows any origin as *, never with credentials; an origin listed exactly keeps its credentials", async () => {
    for (const r of routes) {
      const p = await preflight(tg, r, OTHER);
      expect(p.status).toBe(204);
      expect(p.headers.get("access-control-allow-origin")).toBe("*");
      expect(p.headers.get("access-control-allow-credentials")).toBeNull();
      const a = await actual(tg, r, OTHER);
      expect(a.status).toBe(r.status);
      expect(a.headers.get("access-control-allow-origin")).toBe("*");
      expect(a.headers.get("access-control-allow-credentials")).toBeNull();
      await a.arrayBuffer();
      const listed = await actual(tg, r, APP);
      expect(listed.headers.get("access-control-allow-origin")).toBe(APP);
      expect(listed.headers.get("access-control-allow-credentials")).toBe("true");
      await listed.arrayBuffer();
    }
  });
});

describe("CORS off (the default)", () => {
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate();
  });
  afterAll(() => tg.destroy());

  it("adds nothing and routes OPTIONS as before", async () => {
    for (const r of routes) {
      const p = await preflight(tg, r, APP);
      expect(p.status).not.toBe(204);
      expect(p.headers.get("access-control-allow-origin")).toBeNull();
      await p.arrayBuffer();
      const a = await actual(tg, r, APP);
      expect(a.status).toBe(r.status);
      expect(a.headers.get("access-control-allow-origin")).toBeNull();
      expect(a.headers.get("vary")).toBeNull();
      await a.arrayBuffer();
    }
  });
});

describe("corsDecision", () => {
  const cases: { name: string; origins: string[]; method: string; headers: Record<string, string>; kind: string; status?: number; allowOrigin?: string | null; credentials?: string | null }[] = [
    { name: "off", origins: [], method: "OPTIONS", headers: { origin: APP, "access-control-request-method": "POST" }, kind: "none" },
    { name: "exact, preflight", origins: [APP], method: "OPTIONS", headers: { origin: APP, "access-control-request-method": "POST" }, kind: "preflight", status: 204, allowOrigin: APP, credentials: "true" },
    { name: "exact, refused preflight", origins: [APP], method: "OPTIONS", headers: { origin: OTHER, "access-control-request-method": "POST" }, kind: "preflight", status: 403, allowOrigin: null, credentials: null },
    { name: "exact, actual", origins: [APP], method: "POST", headers: { origin: APP }, kind: "actual", allowOrigin: APP, credentials: "true" },
    { name: "exact, refused actual", origins: [APP], method: "POST", headers: { origin: OTHER }, kind: "actual", allowOrigin: null, credentials: null },
    { name: "a plain OPTIONS (no request method) is an actual request", origins: [APP], method: "OPTIONS", headers: { origin: APP }, kind: "actual", allowOrigin: APP },
    { name: "no Origin", origins: [APP], method: "OPTIONS", headers: { "access-control-request-method": "POST" }, kind: "actual", allowOrigin: null },
    { name: "wildcard", origins: ["*"], method: "OPTIONS", headers: { origin: "null", "access-control-request-method": "GET" }, kind: "preflight", status: 204, allowOrigin: "*", credentials: null },
    { name: "origins compare exactly", origins: [APP], method: "POST", headers: { origin: APP.toUpperCase() }, kind: "actual", allowOrigin: null },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = corsDecision(corsPolicy(c.origins), c.method, c.headers);
      expect(d.kind).toBe(c.kind);
      if (d.kind === "none") return;
      if (d.kind === "preflight") expect(d.status).toBe(c.status);
      if (c.allowOrigin !== undefined) expect(d.headers["access-control-allow-origin"] ?? null).toBe(c.allowOrigin);
      if (c.credentials !== undefined) expect(d.headers["access-control-allow-credentials"] ?? null).toBe(c.credentials);
      expect(d.headers.vary).toBe("Origin");
    });
  }

  it("publishes the Connect and AWS header lists", () => {
    for (const h of ["content-type", "connect-protocol-version", "connect-timeout-ms", "grpc-timeout", "x-grpc-web", "x-user-agent", "authorization", "x-amz-target", "amz-sdk-request"]) expect(CORS_ALLOWED_HEADERS).toContain(h);
    for (const h of ["grpc-status", "grpc-message", "grpc-status-details-bin", "x-amzn-requestid"]) expect(CORS_EXPOSED_HEADERS).toContain(h);
  });
});

describe("--cors-origins", () => {
  const cases: { value: string; ok?: string[]; error?: RegExp }[] = [
    { value: "*", ok: ["*"] },
    { value: " https://a.example.com , http://localhost:5173,https://a.example.com", ok: ["https://a.example.com", "http://localhost:5173"] },
    { value: "https://a.example.com/", error: /invalid origin "https:\/\/a\.example\.com\/" \(did you mean https:\/\/a\.example\.com\?\)/ },
    { value: "https://a.example.com:443", error: /did you mean https:\/\/a\.example\.com\?/ },
    { value: "HTTPS://A.example.com", error: /did you mean https:\/\/a\.example\.com\?/ },
    { value: "a.example.com", error: /invalid origin "a\.example\.com"; expected a comma-separated list of origins/ },
    { value: "file:///x", error: /invalid origin/ },
    { value: ",", error: /--cors-origins: invalid value ","/ },
  ];
  for (const c of cases) {
    it(JSON.stringify(c.value), () => {
      if (c.ok) {
        expect(parseConfig(["--cors-origins", c.value], {}).corsOrigins).toEqual(c.ok);
        expect(parseConfig([], { TASKGATE_CORS_ORIGINS: c.value }).corsOrigins).toEqual(c.ok);
        return;
      }
      let err: unknown;
      try {
        parseConfig(["--cors-origins", c.value], {});
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(c.error ?? /./);
    });
  }
});
