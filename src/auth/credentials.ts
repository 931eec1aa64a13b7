// The principals file (--auth-file): who may call taskgate, with which keys and policies.
//
//   {"principals": [{"name": "worker-a", "accessKeyId": "AKIA…", "secretAccessKey": "…",
//                    "sessionToken": "… (optional)", "accountId": "123456789012 (optional)",
//                    "policies": [ <IAM policy documents> ]}]}
//
// Rules (each violation is reported with the file, the principal's index and the field):
// `principals` is a non-empty list; `name` is 1..128 characters and unique; `accessKeyId` is
// 16..128 characters of A-Z, a-z, 0-9 and unique; `secretAccessKey` is at least 16 characters
// (any printable ASCII but space); `sessionToken`, when given, is a non-empty string; `accountId`,
// when given, is 12 digits (the account the principal belongs to; default --account-id); `policies`
// is a list (empty = no permission) of documents policy.ts can read. No other member is accepted,
// so a misspelt field never passes silently.
//
// PrincipalStore holds the current file and re-reads it on reload() (SIGHUP): a file that fails
// any rule leaves the previous principals in place, and reload() says why.
import { readFileSync } from "node:fs";
import { compilePolicy, PolicyError, type CompiledPolicy } from "./policy.ts";

/** One principal as the file defines it, its policies checked and compiled. */
export interface Principal {
  readonly name: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** The principal's account (12 digits); absent: the server's --account-id. Task and page tokens are bound to it. */
  readonly accountId?: string;
  /** The documents as written (for display), in file order. */
  readonly policyDocuments: readonly unknown[];
  /** The same documents compiled, in file order (what policy.ts `evaluate` takes). */
  readonly policies: readonly CompiledPolicy[];
}

/** A principals file that breaks a rule; the message is `<file>: principals[<i>].<field>: <problem>`. */
export class CredentialsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CredentialsFileError";
  }
}

const PRINCIPAL_FIELDS: ReadonlySet<string> = new Set(["name", "accessKeyId", "secretAccessKey", "sessionToken", "accountId", "policies"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads the text of a principals file; `file` names it in error messages. Throws CredentialsFileError. */
export function parsePrincipals(text: string, file: string): Principal[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CredentialsFileError(`${file}: not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isObject(doc)) throw new CredentialsFileError(`${file}: expected a JSON object {"principals": [...]}`);
  for (const k of Object.keys(doc)) if (k !== "principals") throw new CredentialsFileError(`${file}: unknown member ${JSON.stringify(k)}; the file has one member, "principals"`);
  const list = doc.principals;
  if (!Array.isArray(list) || list.length === 0) throw new CredentialsFileError(`${file}: principals: expected a non-empty list of principals`);
  const names = new Map<string, number>();
  const keys = new Map<string, number>();
  return list.map((p: unknown, i): Principal => {
    const at = `${file}: principals[${i}]`;
    if (!isObject(p)) throw new CredentialsFileError(`${at}: expected an object with name, accessKeyId, secretAccessKey, policies`);
    for (const k of Object.keys(p)) {
      if (!PRINCIPAL_FIELDS.has(k)) throw new CredentialsFileError(`${at}: unknown field ${JSON.stringify(k)}; the fields are ${[...PRINCIPAL_FIELDS].join(", ")}`);
    }
    const { name, accessKeyId, secretAccessKey, sessionToken, accountId, policies } = p;
    if (typeof name !== "string" || name.length < 1 || name.length > 128) throw new CredentialsFileError(`${at}.name: expected a string of 1 to 128 characters`);
    const dupName = names.get(name);
    if (dupName !== undefined) throw new CredentialsFileError(`${at}.name: ${JSON.stringify(name)} is also the name of principals[${dupName}]`);
    names.set(name, i);
    if (typeof accessKeyId !== "string" || !/^[A-Za-z0-9]{16,128}$/.test(accessKeyId)) {
      throw new CredentialsFileError(`${at}.accessKeyId: expected 16 to 128 letters and digits (e.g. AKIAIOSFODNN7EXAMPLE)`);
    }
    const dupKey = keys.get(accessKeyId);
    if (dupKey !== undefined) throw new CredentialsFileError(`${at}.accessKeyId: also the access key of principals[${dupKey}]`);
    keys.set(accessKeyId, i);
    if (typeof secretAccessKey !== "string" || !/^[\x21-\x7e]{16,}$/.test(secretAccessKey)) {
      throw new CredentialsFileError(`${at}.secretAccessKey: expected a string of at least 16 printable ASCII characters without spaces`);
    }
    if (sessionToken !== undefined && (typeof sessionToken !== "string" || sessionToken === "")) throw new CredentialsFileError(`${at}.sessionToken: expected a non-empty string when given`);
    if (accountId !== undefined && (typeof accountId !== "string" || !/^\d{12}$/.test(accountId))) throw new CredentialsFileError(`${at}.accountId: expected 12 digits when given`);
    if (!Array.isArray(policies)) throw new CredentialsFileError(`${at}.policies: expected a list of IAM policy documents ([] grants nothing)`);
    const compiled = policies.map((doc: unknown, j) => {
      try {
        return compilePolicy(doc, `policies[${j}]`);
      } catch (e) {
        if (e instanceof PolicyError) throw new CredentialsFileError(`${at}.${e.message}`);
        throw e;
      }
    });
    return {
      name,
      accessKeyId,
      secretAccessKey,
      ...(typeof sessionToken === "string" ? { sessionToken } : {}),
      ...(typeof accountId === "string" ? { accountId } : {}),
      policyDocuments: policies as unknown[],
      policies: compiled,
    };
  });
}

/** Reads and checks a principals file from disk. Throws CredentialsFileError (also for a file that cannot be read). */
export function loadPrincipals(file: string): Principal[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new CredentialsFileError(`${file}: cannot be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parsePrincipals(text, file);
}

/** The outcome of PrincipalStore.reload(). */
export type ReloadResult = { readonly ok: true; readonly principals: number } | { readonly ok: false; readonly error: string };

/** The principals in force, by access key id; replaced whole by a successful reload. */
export class PrincipalStore {
  readonly #file: string;
  #byKey: ReadonlyMap<string, Principal>;

  /** Loads `file` now; throws CredentialsFileError when it breaks a rule. */
  constructor(file: string) {
    this.#file = file;
    this.#byKey = index(loadPrincipals(file));
  }

  /** The principal of an access key id. */
  lookup(accessKeyId: string): Principal | undefined {
    return this.#byKey.get(accessKeyId);
  }

  /** Every principal in force. */
  all(): Principal[] {
    return [...this.#byKey.values()];
  }

  /** How many principals are in force. */
  get size(): number {
    return this.#byKey.size;
  }

  /** Re-reads the file; on any error the principals in force stay as they are. */
  reload(): ReloadResult {
    try {
      this.#byKey = index(loadPrincipals(this.#file));
      return { ok: true, principals: this.#byKey.size };
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
  }
}

function index(principals: readonly Principal[]): ReadonlyMap<string, Principal> {
  return new Map(principals.map((p) => [p.accessKeyId, p]));
}
