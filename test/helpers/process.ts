// Runs taskgate as its own process, as `npm start` does, for tests that stop or kill it.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "../..");

/**
 * The Node flags `npm start` runs the server with: package.json's start script is
 * `node [flags] src/main.ts`, and anything else is refused, so that what tests and the bench
 * start is what `npm start` runs.
 */
export const startFlags: readonly string[] = (() => {
  const start = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
  const m = /^node((?: --?[\w-]+(?:=\S+)?)*) src\/main\.ts$/.exec(start);
  if (!m) throw new Error(`package.json's start script is not "node [flags] src/main.ts": ${start}`);
  return m[1].split(" ").filter(Boolean);
})();

/** A taskgate process: its child handle, base URL, and a promise of its exit code. */
export interface TaskgateProcess {
  child: ChildProcess;
  port: number;
  url: string;
  exited: Promise<number | null>;
}

/** Starts `node [startFlags] src/main.ts --port 0 …args` and resolves once it logs where it listens. */
export async function spawnTaskgate(args: string[]): Promise<TaskgateProcess> {
  const child = spawn(process.execPath, [...startFlags, "src/main.ts", "--port", "0", "--log-level", "info", ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`taskgate did not start: ${out}`)), 15_000);
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
    void exited.then((code) => reject(new Error(`taskgate exited ${code}: ${out}`)));
  });
  return { child, port, url: `http://127.0.0.1:${port}`, exited };
}
