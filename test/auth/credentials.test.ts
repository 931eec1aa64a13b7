// The principals file: the accepted form, every rule as a case with the message it gives (file,
// principal index, field), and reload keeping the principals in force when the new file is bad.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CredentialsFileError, PrincipalStore, parsePrincipals } from "../../src/auth/credentials.ts";

const good = {
  name: "worker-a",
  accessKeyId: "AKIAWORKERA000000001",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  policies: [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "swf:*", Resource: "*" }] }],
};

const invalid: { name: string; file: unknown; message: string }[] = [
  { name: "not JSON", file: "{principals:", message: "p.json: not valid JSON: " },
  { name: "not an object", file: [], message: 'p.json: expected a JSON object {"principals": [...]}' },
  { name: "unknown top-level member", file: { principals: [good], users: [] }, message: 'p.json: unknown member "users"' },
  { name: "no principals", file: { principals: [] }, message: "p.json: principals: expected a non-empty list of principals" },
  { name: "principal not an object", file: { principals: [good, "x"] }, message: "p.json: principals[1]: expected an object" },
  { name: "misspelt field", file: { principals: [{ ...good, secretKey: "x" }] }, message: 'p.json: principals[0]: unknown field "secretKey"' },
  { name: "no name", file: { principals: [{ ...good, name: "" }] }, message: "p.json: principals[0].name: expected a string of 1 to 128 characters" },
  { name: "duplicate name", file: { principals: [good, { ...good, accessKeyId: "AKIAWORKERB000000001" }] }, message: 'p.json: principals[1].name: "worker-a" is also the name of principals[0]' },
  { name: "short access key", file: { principals: [{ ...good, accessKeyId: "AKIA" }] }, message: "p.json: principals[0].accessKeyId: expected 16 to 128 letters and digits" },
  { name: "duplicate access key", file: { principals: [good, { ...good, name: "b" }] }, message: "p.json: principals[1].accessKeyId: also the access key of principals[0]" },
  { name: "short secret", file: { principals: [{ ...good, secretAccessKey: "short" }] }, message: "p.json: principals[0].secretAccessKey: expected a string of at least 16 printable ASCII characters" },
  { name: "empty session token", file: { principals: [{ ...good, sessionToken: "" }] }, message: "p.json: principals[0].sessionToken: expected a non-empty string when given" },
  { name: "policies not a list", file: { principals: [{ ...good, policies: {} }] }, message: "p.json: principals[0].policies: expected a list of IAM policy documents" },
  {
    name: "a policy the engine refuses",
    file: { principals: [{ ...good, policies: [{ Statement: [{ Effect: "Allow", Action: "swf:*" }] }] }] },
    message: "p.json: principals[0].policies[0].Statement[0]: needs exactly one of Resource and NotResource",
  },
];

describe("principals file rules", () => {
  it.each(invalid.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    let error: unknown;
    try {
      parsePrincipals(typeof c.file === "string" ? c.file : JSON.stringify(c.file), "p.json");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CredentialsFileError);
    expect((error as Error).message.startsWith(c.message)).toBe(true);
  });

  it("reads the documented form, session token optional", () => {
    const ps = parsePrincipals(JSON.stringify({ principals: [good, { ...good, name: "b", accessKeyId: "AKIAWORKERB000000001", sessionToken: "tok", policies: [] }] }), "p.json");
    expect(ps.map((p) => [p.name, p.sessionToken, p.policies.length])).toEqual([
      ["worker-a", undefined, 1],
      ["b", "tok", 0],
    ]);
  });
});

describe("PrincipalStore", () => {
  const dir = mkdtempSync(join(tmpdir(), "taskgate-auth-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reloads a good file and keeps the old principals when the new file is bad", () => {
    const file = join(dir, "principals.json");
    writeFileSync(file, JSON.stringify({ principals: [good] }));
    const store = new PrincipalStore(file);
    expect(store.lookup(good.accessKeyId)?.name).toBe("worker-a");

    writeFileSync(file, JSON.stringify({ principals: [{ ...good, name: "worker-b", accessKeyId: "AKIAWORKERB000000001" }] }));
    expect(store.reload()).toEqual({ ok: true, principals: 1 });
    expect(store.lookup(good.accessKeyId)).toBeUndefined();
    expect(store.lookup("AKIAWORKERB000000001")?.name).toBe("worker-b");

    writeFileSync(file, "{ not json");
    const r = store.reload();
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.error).toMatch(/principals\.json: not valid JSON/);
    expect(store.lookup("AKIAWORKERB000000001")?.name).toBe("worker-b");
  });

  it("refuses to start on a missing file, naming it", () => {
    expect(() => new PrincipalStore(join(dir, "missing.json"))).toThrow(/missing\.json: cannot be read/);
  });
});
