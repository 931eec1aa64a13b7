// Fails when the committed contracts or generated code are out of step with their sources.
//
//   node scripts/check-gen.ts
//
// Regenerates both layers in place — proto/ from the AWS models (scripts/protogen.ts), then gen/
// from proto/ (buf generate with the local protoc-gen-es) — and exits 1, listing the files, when
// either step changed, added or removed anything. On a clean checkout (CI) this is exactly "git
// status --porcelain -- gen/ proto/ shows changes"; comparing the files before and after instead
// of asking git keeps the check meaningful in a working tree with uncommitted edits (it flags only
// what regeneration changes) and outside a git checkout. Either way the regenerated files stay on
// disk, ready to commit.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { delimiter, join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const bin = join(root, "node_modules", ".bin");
const watched = ["proto", "gen"];

/** Every file under the watched directories, by path relative to the root, with its SHA-256. */
function snapshot(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.set(relative(root, path), createHash("sha256").update(readFileSync(path)).digest("hex"));
    }
  };
  for (const d of watched) walk(join(root, d));
  return files;
}

/** Runs a step with node_modules/.bin first on PATH (so buf finds protoc-gen-es, and `node` is the project's Node). */
function run(label: string, command: string, args: string[]): void {
  const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` };
  const r = spawnSync(command, args, { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] });
  if (r.error !== undefined || r.status !== 0) {
    const why = r.error !== undefined ? r.error.message : r.signal !== null ? `killed by ${r.signal}` : `exit code ${r.status}`;
    process.stderr.write(`check-gen: ${label} failed (${why})\n`);
    process.exit(1);
  }
}

const before = snapshot();
run("node scripts/protogen.ts", process.execPath, [join(root, "scripts", "protogen.ts")]);
run("buf generate", join(bin, "buf"), ["generate"]);
const after = snapshot();

const changes: string[] = [];
for (const [path, hash] of after) {
  const old = before.get(path);
  if (old === undefined) changes.push(`  added     ${path}`);
  else if (old !== hash) changes.push(`  changed   ${path}`);
}
for (const path of before.keys()) if (!after.has(path)) changes.push(`  removed   ${path}`);
changes.sort((a, b) => a.slice(12).localeCompare(b.slice(12)));

if (changes.length > 0) {
  process.stderr.write(
    "check-gen: proto/ or gen/ was out of step with its sources (models/, scripts/protogen.*, proto/);\n" +
      "regenerating changed these files, which are now up to date on disk — review and commit them:\n" +
      changes.join("\n") +
      "\n",
  );
  process.exit(1);
}
process.stdout.write(`check-gen: proto/ and gen/ match their sources (${after.size} files)\n`);
