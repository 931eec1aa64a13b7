// The house has no arrow running back up: server -> awsjson / services -> engines (swf) ->
// resources -> dispatch -> store, with faults, model and the request values at the bottom. This
// test reads the import lines (and the SQL calls) of every file under src/.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, dirname, resolve } from "node:path";

const src = join(import.meta.dirname, "../../src");

/**
 * What each top-level part of src/ may import: a part (folder or file), or one file of a part
 * (`dispatch/index.ts`: the dispatch core's public surface).
 */
const allowed: Record<string, string[]> = {
  "main.ts": ["app.ts", "server", "auth", "faults.ts"],
  "app.ts": ["server", "services", "auth", "swf/engine.ts", "sfn/engine.ts", "datapipeline/engine.ts", "resources", "dispatch/index.ts", "store", "faults.ts", "model", "request"],
  server: ["awsjson", "auth", "services/registry.ts", "faults.ts", "faults-connect.ts", "model", "request"],
  awsjson: ["auth", "services/registry.ts", "faults.ts", "faults-connect.ts", "model", "request"],
  services: ["swf/engine.ts", "sfn/engine.ts", "datapipeline/engine.ts", "dispatch/index.ts", "faults.ts", "model", "request"],
  swf: ["dispatch/index.ts", "store/swf.ts", "store/db.ts", "resources", "faults.ts"],
  sfn: ["dispatch/index.ts", "store/sfn.ts", "store/db.ts", "resources", "faults.ts"],
  datapipeline: ["dispatch/index.ts", "store/datapipeline.ts", "store/db.ts", "resources", "faults.ts"],
  resources: ["dispatch/index.ts", "faults.ts"],
  dispatch: ["store/db.ts", "store/dispatch.ts", "faults.ts"],
  store: ["faults.ts"],
  model: ["faults.ts"],
  auth: ["faults.ts", "faults-connect.ts", "model", "request"],
  "faults.ts": [],
  "faults-connect.ts": ["faults.ts", "request"],
  request: [],
  client: [],
};

/** The engine folders: each holds one engine's rules and nothing of another's. */
const engines = ["swf", "sfn", "datapipeline"];

/** Store modules that belong to one owner (an engine): they build on the seam and the dispatch SQL only. */
const storeOwners = ["store/swf.ts", "store/sfn.ts", "store/datapipeline.ts"];

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

/** Every import of a file: the specifier and, for a relative one, the target's path under src/ (undefined outside src/). */
function imports(file: string): { spec: string; to?: string }[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']/gm)].map((m) => {
    if (!m[1].startsWith(".")) return { spec: m[1] };
    const target = resolve(dirname(file), m[1]);
    return { spec: m[1], to: target.startsWith(src) ? relative(src, target) : undefined };
  });
}

const all = files(src);

describe("dependency direction", () => {
  it("every import under src/ points down the layers", () => {
    const wrong: string[] = [];
    for (const file of all) {
      const from = part(file);
      for (const { to } of imports(file)) {
        if (to === undefined) continue; // gen/ and models/ are the contract, usable by all
        const toPart = to.includes("/") ? to.split("/")[0] : to;
        if (toPart === from) continue;
        const ok = (allowed[from] ?? []).some((a) => to === a || to.startsWith(`${a}/`));
        if (!ok) wrong.push(`${relative(src, file)} -> ${to}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("engines never import each other", () => {
    const wrong = all.flatMap((file) => {
      const from = part(file);
      if (!engines.includes(from)) return [];
      return imports(file)
        .filter(({ to }) => to !== undefined && engines.includes(to.split("/")[0]) && to.split("/")[0] !== from)
        .map(({ to }) => `${relative(src, file)} -> ${to}`);
    });
    expect(wrong).toEqual([]);
  });

  it("engines reach the dispatch core only through dispatch/index.ts", () => {
    const wrong = all.flatMap((file) => {
      if (!engines.includes(part(file)) && part(file) !== "resources" && part(file) !== "services") return [];
      return imports(file)
        .filter(({ to }) => to !== undefined && to.startsWith("dispatch/") && to !== "dispatch/index.ts")
        .map(({ to }) => `${relative(src, file)} -> ${to}`);
    });
    expect(wrong).toEqual([]);
  });

  it("SQL is written only under src/store/", () => {
    const wrong = all.filter((file) => part(file) !== "store" && /\bsql\.(run|get|all)\(/.test(readFileSync(file, "utf8"))).map((f) => relative(src, f));
    expect(wrong).toEqual([]);
  });

  it("engine folders import no node:* module (ids and tokens come from dispatch and resources)", () => {
    const wrong = all.flatMap((file) => {
      if (!engines.includes(part(file))) return [];
      return imports(file)
        .filter(({ spec }) => spec.startsWith("node:"))
        .map(({ spec }) => `${relative(src, file)} -> ${spec}`);
    });
    expect(wrong).toEqual([]);
  });

  it("an engine's store module builds only on the seam and the dispatch SQL", () => {
    const wrong = all.flatMap((file) => {
      const rel = relative(src, file);
      if (!storeOwners.includes(rel)) return [];
      return imports(file)
        .filter(({ to }) => to !== undefined && to !== "store/db.ts" && to !== "store/dispatch.ts")
        .map(({ to }) => `${rel} -> ${to}`);
    });
    expect(wrong).toEqual([]);
  });
});
