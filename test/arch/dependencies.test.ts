// The house has no arrow running back up: server -> awsjson / services -> swf -> dispatch -> store,
// with faults, model and the request values at the bottom. This test reads the import lines under src/.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, dirname, resolve } from "node:path";

const src = join(import.meta.dirname, "../../src");

/** Which top-level parts of src/ each part may import. */
const allowed: Record<string, string[]> = {
  "main.ts": ["app.ts", "server", "faults.ts"],
  "app.ts": ["server", "services", "swf", "dispatch", "store", "faults.ts", "model", "request"],
  server: ["awsjson", "services", "faults.ts", "faults-connect.ts", "model", "request"],
  awsjson: ["services/registry.ts", "faults.ts", "faults-connect.ts", "model", "request"],
  services: ["swf", "dispatch/index.ts", "faults.ts", "model", "request"],
  swf: ["dispatch", "store", "resources", "faults.ts"],
  resources: ["dispatch/index.ts", "faults.ts"],
  dispatch: ["store", "faults.ts"],
  store: ["faults.ts"],
  model: ["faults.ts"],
  "faults.ts": [],
  "faults-connect.ts": ["faults.ts", "request"],
  request: [],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function part(file: string): string {
  const rel = relative(src, file);
  return rel.includes("/") ? rel.split("/")[0] : rel;
}

describe("dependency direction", () => {
  it("every import under src/ points down the layers", () => {
    const wrong: string[] = [];
    for (const file of files(src)) {
      const from = part(file);
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+["'](\.{1,2}\/[^"']+)["']/gm)) {
        const target = resolve(dirname(file), m[1]);
        if (!target.startsWith(src)) continue; // gen/ and models/ are the contract, usable by all
        const to = relative(src, target);
        const toPart = part(target);
        if (toPart === from) continue;
        const ok = (allowed[from] ?? []).some((a) => to === a || to.startsWith(`${a}/`) || toPart === a);
        if (!ok) wrong.push(`${relative(src, file)} -> ${to}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
