// Running out of file descriptors: taskgate as its own process under `ulimit -n 64`, flooded with
// connections. Node itself reports nothing when accept() fails with EMFILE (libuv closes the
// pending connections with a spare descriptor); the server must refuse what it cannot serve, say
// so in its log and on /healthz, and keep serving once descriptors are free again.
import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import { join } from "node:path";

const root = join(import.meta.dirname, "../..");

let child: ChildProcess | undefined;
afterEach(async () => {
  if (child !== undefined && child.exitCode === null) {
    const exited = new Promise((r) => child?.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
  child = undefined;
});

/** Starts taskgate with an open-file limit of `limit`; resolves with its port and its parsed log lines. */
async function startLimited(limit: number, args: string[]): Promise<{ port: number; lines: Record<string, unknown>[] }> {
  const script = `ulimit -n ${limit} && exec "$0" src/main.ts "$@"`;
  const c = spawn("bash", ["-c", script, process.execPath, "--port", "0", "--database", "sqlite::memory:", "--log-level", "info", ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child = c;
  const lines: Record<string, unknown>[] = [];
  let partial = "";
  let errText = "";
  c.stderr?.on("data", (b: Buffer) => (errText += b.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`taskgate did not start: ${errText}`)), 15_000);
    c.stdout?.on("data", (b: Buffer) => {
      partial += b.toString();
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      for (const l of parts) {
        if (l.trim() === "") continue;
        const line = JSON.parse(l) as Record<string, unknown>;
        lines.push(line);
        const m = /listening on http:\/\/[^:]+:(\d+)/.exec(String(line.msg));
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      }
    });
    c.once("exit", (code) => reject(new Error(`taskgate exited ${code}: ${errText}`)));
  });
  return { port, lines };
}

/** Opens a connection; resolves once connected, with a promise of its close. */
async function connect(port: number): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.on("error", () => undefined);
  socket.resume();
  const closed = new Promise<void>((r) => socket.once("close", () => r()));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, closed };
}

describe("at the open-file limit", () => {
  it("refuses connections it has no descriptors for, logs it once per 10 s, reports it on /healthz, and recovers", async () => {
    const { port, lines } = await startLimited(64, ["--max-connections", "1000", "--headers-timeout-seconds", "30"]);
    // The start warns that the limit is below what --max-connections promises.
    expect(lines.find((l) => l.level === 40 && String(l.msg).includes("the open-file limit (64) leaves room for about"))).toBeDefined();

    const conns = await Promise.all(Array.from({ length: 100 }, () => connect(port)));
    // Refused connections are closed at once; the others stay open.
    const settled = await Promise.all(conns.map((c) => Promise.race([c.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 1000))])));
    const refused = settled.filter((x) => x).length;
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(100);

    const errors = lines.filter((l) => l.level === 50 && String(l.msg).includes("out of file descriptors"));
    expect(errors).toHaveLength(1); // the first at once, the rest after the 10 s window
    expect(errors[0]).toMatchObject({ refused: 1, total: 1, openFileLimit: 64 });
    expect(String(errors[0].msg)).toContain("ulimit -n");

    for (const c of conns) c.socket.destroy();
    // Descriptors are free again: /healthz answers and shows what happened.
    let health: { status: string; openFiles: { limit: number; exhausted: { count: number; last: string | null } } } | undefined;
    for (let i = 0; i < 50 && health === undefined; i++) {
      try {
        health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as typeof health;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(health?.status).toBe("ok");
    expect(health?.openFiles.limit).toBe(64);
    expect(health?.openFiles.exhausted.count).toBeGreaterThanOrEqual(refused);
    expect(Date.parse(health?.openFiles.exhausted.last ?? "")).toBeGreaterThan(Date.now() - 60_000);
  });
});
