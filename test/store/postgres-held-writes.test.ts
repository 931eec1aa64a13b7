// PostgreSQL holds back writes whose outcome nobody reads (`Sql.write`) and sends them with the
// transaction's next statement or its COMMIT, their values inlined as literals; and a delivery
// confirmation passes over task rows another transaction holds and returns their tokens.
//
// PostgreSQL is required (TASKGATE_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test);
// every test works in a fresh schema it drops afterwards.
import { afterAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import pino from "pino";
import { write, type Database } from "../../src/store/db.ts";
import { dropSchema, inline, openPostgres } from "../../src/store/postgres.ts";
import { insertTask, markDelivered, markStarted, taskById } from "../../src/store/dispatch.ts";

const url = process.env.TASKGATE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const log = pino({ level: "silent" });
const opened: { db: Database; schema: string }[] = [];

async function open(): Promise<Database> {
  const schema = `t_${randomBytes(6).toString("hex")}`;
  const db = await openPostgres({ url: `${url}`, log, schema, poolSize: 3 });
  opened.push({ db, schema });
  return db;
}

afterAll(async () => {
  for (const { db, schema } of opened) {
    await db.close();
    await dropSchema(url, schema);
  }
});

const task = (key: string) => ({ queue: "q", priority: 0, owner: "o", key, payload: "{}", nowMs: 1 });

describe("postgres held writes", () => {
  it("inlines values as quoted literals, leaving quoted text and comments alone", () => {
    expect(inline("SELECT '?', ? -- ?\n, ?, ?, ?", ["it's \\", 5, null, new Uint8Array([0, 255])])).toBe(
      "SELECT '?',  E'it''s \\\\' -- ?\n, '5', NULL,  E'\\\\x00ff'",
    );
    expect(() => inline("SELECT ?, ?", [1])).toThrow();
  });

  it("runs a held write before the next statement, and stores strings, bytes and NUL as bound values are", async () => {
    const db = await open();
    const id = await db.tx((sql) => insertTask(sql, task("a")));
    const odd = "nul \u0000 fdd0 \uFDD0 quote ' backslash \\ semicolon;\n";
    const read = await db.tx(async (sql) => {
      await write(sql, "UPDATE tasks SET payload = ? WHERE id = ?", [odd, id]);
      return (await taskById(sql, db.caps, id))!.payload;
    });
    expect(read).toBe(odd);
    await db.tx((sql) => write(sql, "UPDATE tasks SET payload = ? WHERE id = ?", [`${odd}2`, id]));
    expect(await db.tx(async (sql) => (await taskById(sql, db.caps, id))!.payload)).toBe(`${odd}2`);
  });

  it("a held write that fails fails its transaction at COMMIT, rolls it back, and the connection serves on", async () => {
    const db = await open();
    const id = await db.tx((sql) => insertTask(sql, task("b")));
    await expect(
      db.tx(async (sql) => {
        await sql.run("UPDATE tasks SET payload = ? WHERE id = ?", ["changed", id]);
        await write(sql, "INSERT INTO tasks (id, queue, priority, state, owner, key, payload, scheduled_ms) VALUES (?, 'q', 0, 0, 'o', 'c', '{}', 1)", [id]);
      }),
    ).rejects.toThrow(/duplicate key/);
    for (let i = 0; i < 5; i++) expect(await db.tx(async (sql) => (await taskById(sql, db.caps, id))!.payload)).toBe("{}");
  });

  it("a thrown error discards held writes", async () => {
    const db = await open();
    const id = await db.tx((sql) => insertTask(sql, task("d")));
    await expect(
      db.tx(async (sql) => {
        await write(sql, "DELETE FROM tasks WHERE id = ?", [id]);
        throw new Error("no");
      }),
    ).rejects.toThrow("no");
    expect(await db.tx((sql) => taskById(sql, db.caps, id))).toBeDefined();
  });

  it("a delivery confirmation passes over a row another transaction holds and returns its token", async () => {
    const db = await open();
    const ids = await db.tx(async (sql) => [await insertTask(sql, task("e")), await insertTask(sql, task("f"))]);
    await db.tx(async (sql) => {
      await markStarted(sql, ids[0]!, "tok-e", "{}", 2, "n");
      await markStarted(sql, ids[1]!, "tok-f", "{}", 2, "n");
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = db.tx(async (sql) => {
      await taskById(sql, db.caps, ids[1]!);
      locked();
      await released;
    });
    await isLocked;
    expect(await db.tx((sql) => markDelivered(sql, db.caps, ["tok-e", "tok-f", "tok-unknown"]))).toEqual(["tok-f"]);
    release();
    await holder;
    expect(await db.tx((sql) => markDelivered(sql, db.caps, ["tok-e", "tok-f"]))).toEqual([]);
    const delivered = await db.tx(async (sql) => (await sql.all("SELECT delivered FROM tasks ORDER BY id")).map((r) => Number(r.delivered)));
    expect(delivered).toEqual([1, 1]);
  });
});
