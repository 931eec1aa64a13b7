// A store that cannot write (disk full): calls answer the retryable 503 ServiceUnavailable, not a
// 500; /healthz answers 503 while writes fail and 200 again once a write succeeds, by itself.
//
// SQLite: the database lives on a small tmpfs that the test fills to the last byte (a real
// ENOSPC, so this needs root, as the CI machine has). PostgreSQL: every write to the suite's
// schema raises disk_full (SQLSTATE 53100) through a trigger, as a full data directory does.
import { afterEach, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { RegisterDomainCommand, StartWorkflowExecutionCommand } from "@aws-sdk/client-swf";
import { freshStore, postgresUrl, startTaskgate, type StoreLocation, type Taskgate } from "../helpers/harness.ts";
import { setupDomain } from "../helpers/swf.ts";

const healthz = async (tg: Taskgate): Promise<number> => (await fetch(`${tg.url}/healthz`)).status;

describe("a full disk (sqlite)", () => {
  let dir: string | undefined;
  let tg: Taskgate | undefined;
  afterEach(async () => {
    await tg?.stop();
    if (dir) {
      execFileSync("umount", [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers ServiceUnavailable and is not ready while the disk is full, and recovers when space is freed", async () => {
    dir = mkdtempSync(join(tmpdir(), "taskgate-full-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", dir]);
    const loc: StoreLocation = { kind: "sqlite", database: { kind: "sqlite", path: join(dir, "taskgate.db") }, cleanup: async () => undefined };
    // A 1 s node timeout heartbeats (a small write) every 250 ms.
    tg = await startTaskgate({ store: loc, config: { nodeTimeoutSeconds: 1 } });
    const f = await setupDomain(tg.swf);

    // Fill the file system to its last byte.
    const filler = join(dir, "filler");
    const fd = openSync(filler, "w");
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
        for (;;) {
          try {
            writeSync(fd, chunk, 0, size);
          } catch {
            break;
          }
        }
      }
    } finally {
      closeSync(fd);
    }

    // The first writes may still fit in WAL space that a checkpoint has freed for reuse (the WAL
    // file keeps its size when it restarts); writing on, one must need new space and fail.
    const input = "x".repeat(32 * 1024);
    let err: unknown;
    for (let i = 0; i < 200 && err === undefined; i++)
      err = await tg.swf.send(new StartWorkflowExecutionCommand({ domain: f.domain, workflowId: `full-${i}`, workflowType: f.workflowType, input })).then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ name: "ServiceUnavailable", $metadata: { httpStatusCode: 503 } });
    expect((err as Error).message).toMatch(/cannot store changes/);
    expect(await healthz(tg)).toBe(503);

    rmSync(filler);
    await expect.poll(() => healthz(tg!), { timeout: 5_000, interval: 50 }).toBe(200);
    await tg.swf.send(new StartWorkflowExecutionCommand({ domain: f.domain, workflowId: "full", workflowType: f.workflowType, input }));
  });
});

describe("a full disk (postgres)", () => {
  let tg: Taskgate | undefined;
  let loc: StoreLocation | undefined;
  afterEach(async () => {
    await tg?.destroy();
  });

  it("answers ServiceUnavailable and is not ready while writes fail with disk_full, and recovers by itself", async () => {
    loc = freshStore("postgres");
    tg = await startTaskgate({ store: loc, config: { nodeTimeoutSeconds: 1 } });
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    const s = pg.escapeIdentifier(loc.schema!);
    try {
      await admin.query(
        `CREATE FUNCTION ${s}.disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$`,
      );
      for (const table of ["nodes", "tasks", "swf_domains", "swf_executions"]) {
        await admin.query(`CREATE TRIGGER disk_full BEFORE INSERT OR UPDATE OR DELETE ON ${s}.${table} FOR EACH STATEMENT EXECUTE FUNCTION ${s}.disk_full()`);
      }
      const err = await tg.swf.send(new RegisterDomainCommand({ name: "full", workflowExecutionRetentionPeriodInDays: "1" })).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: "ServiceUnavailable", $metadata: { httpStatusCode: 503 } });
      expect((err as Error).message).toMatch(/cannot store changes/);
      expect(await healthz(tg)).toBe(503);
      // Reads still work while writes fail.
      await expect(tg.swf.send(new RegisterDomainCommand({ name: "full", workflowExecutionRetentionPeriodInDays: "1" }))).rejects.toMatchObject({ name: "ServiceUnavailable" });

      for (const table of ["nodes", "tasks", "swf_domains", "swf_executions"]) await admin.query(`DROP TRIGGER disk_full ON ${s}.${table}`);
      await expect.poll(() => healthz(tg!), { timeout: 5_000, interval: 50 }).toBe(200);
      await tg.swf.send(new RegisterDomainCommand({ name: "full", workflowExecutionRetentionPeriodInDays: "1" }));
    } finally {
      await admin.end();
    }
  });
});
