// The store conformance suite on SQLite and PostgreSQL, then what only PostgreSQL does: several
// nodes migrating at once, deadlock retries, lost connections, the LISTEN connection.
//
// PostgreSQL is required: when it is unreachable these tests fail, they do not skip. URL from
// TASKGATE_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test); every suite works
// in a fresh schema it drops afterwards.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import pino from "pino";
import type { Database } from "../../src/store/db.ts";
import { Fault } from "../../src/faults.ts";
import { openSqlite } from "../../src/store/sqlite.ts";
import { dropSchema, openPostgres, positional } from "../../src/store/postgres.ts";
import { insertTask, taskByKey, updatePayload } from "../../src/store/dispatch.ts";
import { defineStoreSuite } from "./store-conformance.ts";

const url = process.env.TASKGATE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const log = pino({ level: process.env.TASKGATE_TEST_LOG ?? "silent" });
const freshSchema = (): string => `t_${randomBytes(6).toString("hex")}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds or `ms` passed. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(20);
  }
}

/** Runs one statement as an administrator, outside any taskgate pool. */
async function admin<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

{
  const dir = mkdtempSync(join(tmpdir(), "taskgate-store-"));
  defineStoreSuite(
    "sqlite",
    async () => openSqlite({ path: join(dir, "store.db") }),
    async () => rmSync(dir, { recursive: true, force: true }),
  );
}

{
  const schema = freshSchema();
  defineStoreSuite(
    "postgres",
    () => openPostgres({ url, log, schema, poolSize: 6 }),
    () => dropSchema(url, schema),
  );
}

describe("postgres backend", () => {
  const schemas: string[] = [];
  const opened: Database[] = [];
  const open = async (schema: string, extra: { url?: string; poolSize?: number } = {}): Promise<Database> => {
    if (!schemas.includes(schema)) schemas.push(schema);
    const d = await openPostgres({ url: extra.url ?? url, log, schema, poolSize: extra.poolSize, connectTimeoutMs: 2000 });
    opened.push(d);
    return d;
  };
  afterEach(async () => {
    for (const d of opened.splice(0)) await d.close();
  });
  afterAll(async () => {
    for (const s of schemas) await dropSchema(url, s);
  });

  it("rewrites ? placeholders outside literals and comments", () => {
    expect(positional("SELECT a FROM t WHERE b = ? AND c = '?''?' AND \"d?\" = ? -- ?\n AND e IN (?, /* ? */ ?)")).toBe(
      "SELECT a FROM t WHERE b = $1 AND c = '?''?' AND \"d?\" = $2 -- ?\n AND e IN ($3, /* ? */ $4)",
    );
  });

  it("lets several nodes migrate an empty schema at once", async () => {
    const schema = freshSchema();
    const nodes = await Promise.all(Array.from({ length: 4 }, () => open(schema)));
    const ledger = await nodes[0].tx((sql) => sql.all("SELECT version, name FROM schema_migrations ORDER BY version"));
    // Every numbered migration exactly once, although four nodes raced to apply them.
    const files = readdirSync(join(import.meta.dirname, "../../src/store/migrations/postgres")).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(ledger).toEqual(files.map((name) => ({ version: Number.parseInt(name, 10), name })));
  }, 30_000);

  it("fails to open an unreachable database with the retryable ServiceUnavailable fault", async () => {
    const started = Date.now();
    const err = await openPostgres({ url: "postgres://postgres@127.0.0.1:1/test", log, schema: freshSchema(), connectTimeoutMs: 2000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Fault);
    expect((err as Fault).name).toBe("ServiceUnavailable");
    expect((err as Fault).retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("re-runs a transaction chosen as a deadlock victim", async () => {
    const schema = freshSchema();
    const a = await open(schema);
    const b = await open(schema);
    const owner = "deadlock";
    const [x, y] = await a.tx(async (sql) => {
      const x = await insertTask(sql, { queue: "q", priority: 0, owner, key: "x", payload: "0", nowMs: 1 });
      const y = await insertTask(sql, { queue: "q", priority: 0, owner, key: "y", payload: "0", nowMs: 1 });
      return [x, y];
    });
    // Each transaction locks one row, waits for the other to lock its row, then wants the other's.
    let locked = 0;
    const runs = { a: 0, b: 0 };
    const crossing = (node: Database, name: "a" | "b", first: number, second: number) =>
      node.tx(async (sql) => {
        runs[name]++;
        await updatePayload(sql, first, name);
        if (runs[name] === 1) {
          locked++;
          await eventually(() => locked === 2);
        }
        await updatePayload(sql, second, name);
        return name;
      });
    expect(await Promise.all([crossing(a, "a", x, y), crossing(b, "b", y, x)])).toEqual(["a", "b"]);
    expect(runs.a + runs.b).toBe(3);
    const payloads = await a.tx(async (sql) => [(await taskByKey(sql, a.caps, owner, "x"))!.payload, (await taskByKey(sql, a.caps, owner, "y"))!.payload]);
    expect(payloads[0]).toBe(payloads[1]);
  }, 30_000);

  it("replaces a pooled connection the server terminated", async () => {
    const d = await open(freshSchema(), { poolSize: 1 });
    const pid = await d.tx(async (sql) => (await sql.get("SELECT pg_backend_pid() AS pid"))!.pid);
    await admin("SELECT pg_terminate_backend($1)", [pid]);
    // Whether or not the pool noticed yet, the next transaction runs on a fresh connection.
    const next = await d.tx(async (sql) => (await sql.get("SELECT pg_backend_pid() AS pid"))!.pid);
    expect(next).not.toBe(pid);
    expect(d.healthy()).toBe(true);
  });

  it("keeps publish and subscribe channels apart between schemas", async () => {
    const a = await open(freshSchema());
    const b = await open(freshSchema());
    const heardA: string[] = [];
    const heardB: string[] = [];
    a.subscribe("nudge", (p) => heardA.push(p));
    b.subscribe("nudge", (p) => heardB.push(p));
    // "*" says the LISTEN took effect after subscribe() returned.
    await eventually(() => heardA.includes("*") && heardB.includes("*"));
    await a.publish("nudge", "for-a");
    await eventually(() => heardA.includes("for-a"), 1000);
    await sleep(100);
    expect(heardB).toEqual(["*"]);
  });

  describe("through a proxy that can cut the connection", () => {
    let proxy: { server: Server; sockets: Set<Socket>; port: number } | undefined;
    const target = new URL(url);
    const listen = async (port = 0): Promise<void> => {
      const sockets = new Set<Socket>();
      const server = createServer((inbound) => {
        const outbound = connect(Number(target.port || 5432), target.hostname);
        sockets.add(inbound).add(outbound);
        inbound.pipe(outbound).pipe(inbound);
        const drop = () => {
          inbound.destroy();
          outbound.destroy();
        };
        inbound.on("error", drop).on("close", drop);
        outbound.on("error", drop).on("close", drop);
      });
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
      const address = server.address();
      proxy = { server, sockets, port: typeof address === "object" && address ? address.port : port };
    };
    const cut = async (): Promise<void> => {
      if (!proxy) return;
      const { server, sockets } = proxy;
      proxy = undefined;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    };
    const proxied = (port: number): string => {
      const u = new URL(url);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    };
    afterEach(cut);

    it("turns a lost database into ServiceUnavailable and recovers when it is back", async () => {
      await listen();
      const port = proxy!.port;
      const d = await open(freshSchema(), { url: proxied(port) });
      await d.tx((sql) => insertTask(sql, { queue: "q", priority: 0, owner: "o", key: "k", payload: "{}", nowMs: 1 }));
      await cut();
      const err = await d.tx((sql) => taskByKey(sql, d.caps, "o", "k")).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Fault);
      expect((err as Fault).name).toBe("ServiceUnavailable");
      expect(d.healthy()).toBe(false);
      await d.publish("nudge", "lost"); // logged, never thrown

      await listen(port);
      expect(await d.tx((sql) => taskByKey(sql, d.caps, "o", "k"))).toMatchObject({ owner: "o", key: "k" });
      expect(d.healthy()).toBe(true);
    }, 20_000);

    it("re-listens after the listen connection drops and tells subscribers to re-check", async () => {
      await listen();
      const port = proxy!.port;
      const schema = freshSchema();
      const d = await open(schema, { url: proxied(port) });
      const direct = await open(schema);
      const heard: string[] = [];
      d.subscribe("nudge", (p) => heard.push(p));
      await eventually(() => heard.includes("*"));
      await direct.publish("nudge", "one");
      await eventually(() => heard.includes("one"), 1000);

      await cut();
      await sleep(300); // the listener retries (100 ms, 200 ms, …) against a closed port
      await listen(port);
      await eventually(() => heard.filter((p) => p === "*").length === 2);
      await direct.publish("nudge", "two");
      await eventually(() => heard.includes("two"), 1000);
      expect(heard).toEqual(["*", "one", "*", "two"]);
    }, 20_000);
  });
});
