// A service implementation built from its generated descriptor: every RPC of the descriptor is
// bound to the engine method of the same local name, behind the checks every RPC shares. Adding an
// operation to a service is then a line in scripts/protogen.json and a method on the engine; no
// table lists the RPCs a second time.
//
// What a binding adds to the engine call, on both routes (the AWS JSON route calls these
// implementations directly, so a rule that must hold for every caller lives here, not in a
// Connect interceptor):
// - the request is validated against the AWS model's operation of the method's name (lengths,
//   patterns, ranges, required members, naming rules);
// - a long poll (a method with the long_poll_seconds option) receives its poll options: hold
//   time (shortened to the client's deadline on the RPC routes, longpoll.ts), abort signal,
//   delivery hooks;
// - a server stream of tasks is validated as the long poll whose request members it shares (all
//   but `maxInFlight`), receives its credit (`maxInFlight`) and abort signal, and sends the
//   batches the engine yields one message at a time;
// - a batch stream (`Stream<Kind>TaskBatches`, whose response is one repeated member `tasks` of
//   another stream's response) is that stream's engine method with each claimed batch sent as one
//   message (several when it would pass 4 MiB): the engine has no method of its own for it;
// - a batch `Respond<Kind>Tasks` (unary, taskgate-only, not a model operation) is validated entry
//   by entry: its one list member holds 1 to 1000 entries, each setting one member of its oneof,
//   and the request that member carries is validated as the model operation its message is
//   named after (`RespondActivityTaskCompletedRequest` → `RespondActivityTaskCompleted`);
// - a read-only RPC of taskgate's own (not a model operation, `idempotency_level =
//   NO_SIDE_EFFECTS`, e.g. Data Pipeline's ListTaskRunners) is passed to its engine method, which
//   checks its members; the AWS JSON route does not serve it.
import type { DescMessage, DescMethod, DescMethodServerStreaming, DescMethodUnary, DescService, Message, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";
import type { PollOptions } from "../dispatch/index.ts";
import type { Model } from "../model/model.ts";
import { validateBatch, validateRequest, type BatchEntry } from "../model/validate.ts";
import { maxInFlight, optionSeconds, pollOptions, type PollConfig } from "./longpoll.ts";
import type { RegisteredService } from "./registry.ts";

/** The engine method of an RPC: unary methods may take poll options, streams yield batches. */
type EngineMethod<M> =
  M extends DescMethodUnary<infer I, infer O>
    ? (req: MessageShape<I>, poll: PollOptions) => Promise<MessageInitShape<O>>
    : M extends DescMethodServerStreaming<infer I, infer O>
      ? (req: MessageShape<I>, maxInFlight: number, signal: AbortSignal) => AsyncIterable<MessageInitShape<O>[]>
      : never;

/** Whether an RPC is a batch stream: a server stream whose response has one member, `tasks`. */
type IsBatchStream<M> = M extends DescMethodServerStreaming<DescMessage, infer O> ? (Exclude<keyof MessageShape<O>, "$typeName" | "$unknown"> extends "tasks" ? true : false) : false;

/**
 * What an engine implements for a service: one method per RPC, named as the RPC's local name,
 * except batch streams (served by the method of the stream they batch).
 */
export type EngineOf<Desc extends DescService> = { [P in keyof Desc["method"] as IsBatchStream<Desc["method"][P]> extends true ? never : P]: EngineMethod<Desc["method"][P]> };

type AnyUnary = (req: unknown, poll?: PollOptions) => Promise<unknown>;
type AnyStream = (req: unknown, maxInFlight: number, signal: AbortSignal) => AsyncIterable<unknown[]>;

/** A message's member names (JSON), sorted and joined, without `except`: to compare request shapes. */
function memberNames(m: DescMessage, except?: string): string {
  return m.fields
    .map((f) => f.jsonName)
    .filter((n) => n !== except)
    .sort()
    .join(",");
}

/**
 * The long poll a task stream is validated as: the one long-poll RPC of the service whose request
 * has exactly the stream's request members other than `maxInFlight` (SWF `StreamActivityTasks` →
 * `PollForActivityTask`, Step Functions `StreamActivityTasks` → `GetActivityTask`, Data Pipeline
 * `StreamTasks` → `PollForTask`). Undefined unless exactly one matches.
 */
function pollOf(desc: DescService, stream: { input: DescMessage }): DescMethodUnary | undefined {
  const members = (m: DescMessage) => memberNames(m, "maxInFlight");
  const want = members(stream.input);
  const matches = desc.methods.filter((m): m is DescMethodUnary => m.methodKind === "unary" && optionSeconds(m) > 0 && members(m.input) === want);
  return matches.length === 1 ? matches[0] : undefined;
}

/**
 * The stream a batch stream batches: its response has exactly one member, `tasks`, a list of the
 * response message of another server stream of the service with the same request members.
 * Undefined when `method` is no batch stream.
 */
function batchedStream(desc: DescService, method: { name: string; input: DescMessage; output: DescMessage }): DescMethod | undefined {
  const fields = method.output.fields;
  const tasks = fields[0];
  if (fields.length !== 1 || tasks?.localName !== "tasks" || tasks.fieldKind !== "list" || tasks.listKind !== "message") return undefined;
  const item = tasks.message.typeName;
  const found = desc.methods.filter((m) => m.methodKind === "server_streaming" && m.output.typeName === item && memberNames(m.input) === memberNames(method.input));
  if (found.length !== 1) throw new Error(`${desc.typeName}.${method.name}: a batch stream needs exactly one stream of ${item} with the same request members`);
  return found[0];
}

/** The most a batch stream's message may weigh (`weight`): under gRPC's default receive limit of 4 MiB. */
export const maxBatchMessageBytes = 4 * 1024 * 1024 - 64 * 1024;

/**
 * An upper bound of the encoded size of a message given as its init shape: every string at its
 * UTF-8 length (three bytes per UTF-16 unit for a short one, which saves measuring it), every
 * number at a varint's 10 bytes, each value with a 6-byte tag and length. Called for every task
 * a batch stream delivers: no allocation.
 */
export function weight(v: unknown): number {
  switch (typeof v) {
    case "string":
      return (v.length <= 1024 ? 3 * v.length : Buffer.byteLength(v)) + 6;
    case "number":
    case "bigint":
    case "boolean":
      return 11;
    case "object": {
      if (v === null) return 0;
      if (v instanceof Uint8Array) return v.byteLength + 6;
      let n = 6;
      if (Array.isArray(v)) for (const x of v as unknown[]) n += weight(x);
      else for (const k in v) if (k !== "$typeName") n += k.length + weight((v as Record<string, unknown>)[k]);
      return n;
    }
    default:
      return 0;
  }
}

/** A claimed batch as messages of a batch stream: in order, each under `maxBytes` unless one task alone is larger. */
export function* batchMessages<T>(batch: readonly T[], maxBytes = maxBatchMessageBytes): Generator<{ tasks: T[] }> {
  let tasks: T[] = [];
  let bytes = 0;
  for (const t of batch) {
    const w = weight(t);
    if (tasks.length > 0 && bytes + w > maxBytes) {
      yield { tasks };
      tasks = [];
      bytes = 0;
    }
    tasks.push(t);
    bytes += w;
  }
  if (tasks.length > 0) yield { tasks };
}

/** Entries of one batch call: at least one, at most 1000 (one transaction applies them all). */
const batchRange = { min: 1, max: 1000 };

/**
 * The validator of a batch request `Respond<Kind>Tasks`: its one repeated message member, whose
 * message has one oneof of requests of model operations. Throws at binding time for any other
 * shape (a programming error in the hand-written proto).
 */
function batchValidator(model: Model, method: { name: string; input: DescMessage }): (req: Message) => void {
  const where = `${method.input.typeName} of ${method.name}`;
  const list = method.input.fields.find((f) => f.fieldKind === "list" && f.listKind === "message");
  if (!list || list.fieldKind !== "list" || list.listKind !== "message" || method.input.fields.length !== 1) throw new Error(`${where}: a batch request has exactly one repeated message member`);
  const entry = list.message;
  const oneof = entry.oneofs[0];
  if (entry.oneofs.length !== 1 || !oneof) throw new Error(`${where}: an entry of a batch has exactly one oneof`);
  const cases = new Map<string, { operation: string; schema: DescMessage }>();
  for (const f of oneof.fields) {
    if (f.fieldKind !== "message") throw new Error(`${where}: entry member ${f.name} is not a request message`);
    const operation = f.message.name.replace(/Request$/, "");
    if (!model.operations[operation]) throw new Error(`${where}: entry member ${f.name} carries no model operation's request`);
    cases.set(f.localName, { operation, schema: f.message });
  }
  const members = oneof.fields.map((f) => f.jsonName);
  const jsonOf = new Map(oneof.fields.map((f) => [f.localName, f.jsonName]));
  return (req) => {
    const items = (req as unknown as Record<string, unknown>)[list.localName] as Record<string, { case: string | undefined; value?: Message }>[];
    const entries: BatchEntry[] = items.map((item) => {
      const o = item[oneof.localName];
      const c = o.case === undefined ? undefined : cases.get(o.case);
      if (o.case === undefined || !c) return { member: undefined, operation: "", schema: entry, message: undefined };
      return { member: jsonOf.get(o.case), operation: c.operation, schema: c.schema, message: o.value };
    });
    validateBatch(model, list.jsonName, entries, batchRange, members);
  };
}

/** Binds every RPC of `desc` to the engine method of its local name. */
export function bindService<Desc extends DescService>(desc: Desc, model: Model, engine: EngineOf<Desc>, cfg: PollConfig): RegisteredService {
  const methods = engine as unknown as Record<string, AnyUnary & AnyStream>;
  const impl: Record<string, unknown> = {};
  for (const method of desc.methods) {
    const fn = methods[method.localName];
    const batched = method.methodKind === "server_streaming" ? batchedStream(desc, method) : undefined;
    if (typeof fn !== "function" && !batched) throw new Error(`${desc.typeName}.${method.name} has no engine method ${method.localName}`);
    const call = (fn ?? (() => undefined)).bind(engine);
    if (method.methodKind === "unary") {
      const longPoll = optionSeconds(method) > 0;
      // A unary RPC the model lacks is taskgate's own: a batch, or a read-only RPC (marked
      // NO_SIDE_EFFECTS) whose engine method checks its own few members.
      const own = !model.operations[method.name];
      const batch = own && /^Respond\w+Tasks$/.test(method.name) ? batchValidator(model, method) : undefined;
      const readOnly = own && !batch && method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
      if (own && !batch && !readOnly) throw new Error(`${desc.typeName}.${method.name} is neither a model operation, a batch Respond<Kind>Tasks nor a read-only RPC`);
      impl[method.localName] = (req: MessageShape<typeof method.input>, ctx: HandlerContext) => {
        if (batch) batch(req);
        else if (!readOnly) validateRequest(model, method.name, method.input, req);
        return longPoll ? call(req, pollOptions(method, ctx, cfg)) : call(req);
      };
    } else if (method.methodKind === "server_streaming") {
      const poll = pollOf(desc, method);
      const pollName = poll?.name;
      if (!poll || !pollName || !model.operations[pollName]) throw new Error(`${desc.typeName}.${method.name} has no long poll with the same request members to be validated as`);
      const stream: AnyStream | undefined = batched ? methods[batched.localName]?.bind(engine) : call;
      if (!stream) throw new Error(`${desc.typeName}.${method.name} batches ${batched?.name}, which has no engine method`);
      impl[method.localName] = async function* (req: MessageShape<typeof method.input> & { maxInFlight?: number }, ctx: HandlerContext) {
        // Streams are taskgate's own: the same members and rules as their poll operation.
        validateRequest(model, pollName, poll.input, req as unknown as MessageShape<typeof poll.input>);
        // Not `yield* batch`: an array's iterator has no throw(), so an error thrown into this
        // generator at a delegated yield would surface as a TypeError instead of itself. The
        // engine's generator resumes (and counts the batch delivered) once every message of the
        // batch was taken.
        for await (const batch of stream(req, maxInFlight(req.maxInFlight), ctx.signal)) {
          if (batched) for (const message of batchMessages(batch)) yield message;
          else for (const task of batch) yield task;
        }
      };
    } else {
      throw new Error(`${desc.typeName}.${method.name}: ${method.methodKind} RPCs are not served`);
    }
  }
  return { desc, impl: impl as RegisteredService["impl"], model };
}
