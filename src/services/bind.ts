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
//   time, abort signal, delivery hooks;
// - a server stream `Stream<Kind>Tasks` is validated as the operation `PollFor<Kind>Task` whose
//   members it shares, receives its credit (`maxInFlight`) and abort signal, and sends the
//   batches the engine yields one message at a time.
import type { DescMethodServerStreaming, DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { PollOptions } from "../dispatch/index.ts";
import type { Model } from "../model/model.ts";
import { validateRequest } from "../model/validate.ts";
import { maxInFlight, optionSeconds, pollOptions, type PollConfig } from "./longpoll.ts";
import type { RegisteredService } from "./registry.ts";

/** The engine method of an RPC: unary methods may take poll options, streams yield batches. */
type EngineMethod<M> =
  M extends DescMethodUnary<infer I, infer O>
    ? (req: MessageShape<I>, poll: PollOptions) => Promise<MessageInitShape<O>>
    : M extends DescMethodServerStreaming<infer I, infer O>
      ? (req: MessageShape<I>, maxInFlight: number, signal: AbortSignal) => AsyncIterable<MessageInitShape<O>[]>
      : never;

/** What an engine implements for a service: one method per RPC, named as the RPC's local name. */
export type EngineOf<Desc extends DescService> = { [P in keyof Desc["method"]]: EngineMethod<Desc["method"][P]> };

type AnyUnary = (req: unknown, poll?: PollOptions) => Promise<unknown>;
type AnyStream = (req: unknown, maxInFlight: number, signal: AbortSignal) => AsyncIterable<unknown[]>;

/** The operation a task stream is validated as: `Stream<Kind>Tasks` → `PollFor<Kind>Task`. */
function pollOperationOf(streamName: string): string | undefined {
  const m = /^Stream(\w+)Tasks$/.exec(streamName);
  return m ? `PollFor${m[1]}Task` : undefined;
}

/** Binds every RPC of `desc` to the engine method of its local name. */
export function bindService<Desc extends DescService>(desc: Desc, model: Model, engine: EngineOf<Desc>, cfg: PollConfig): RegisteredService {
  const methods = engine as unknown as Record<string, AnyUnary & AnyStream>;
  const impl: Record<string, unknown> = {};
  for (const method of desc.methods) {
    const fn = methods[method.localName];
    if (typeof fn !== "function") throw new Error(`${desc.typeName}.${method.name} has no engine method ${method.localName}`);
    const call = fn.bind(engine);
    if (method.methodKind === "unary") {
      const longPoll = optionSeconds(method) > 0;
      impl[method.localName] = (req: MessageShape<typeof method.input>, ctx: HandlerContext) => {
        validateRequest(model, method.name, method.input, req);
        return longPoll ? call(req, pollOptions(method, ctx, cfg)) : call(req);
      };
    } else if (method.methodKind === "server_streaming") {
      const pollName = pollOperationOf(method.name);
      const poll = desc.methods.find((m) => m.name === pollName);
      if (!pollName || !poll || !model.operations[pollName]) throw new Error(`${desc.typeName}.${method.name} has no poll operation to be validated as`);
      impl[method.localName] = async function* (req: MessageShape<typeof method.input> & { maxInFlight?: number }, ctx: HandlerContext) {
        // Streams are taskgate's own: the same members and rules as their poll operation.
        validateRequest(model, pollName, poll.input, req as unknown as MessageShape<typeof poll.input>);
        for await (const batch of call(req, maxInFlight(req.maxInFlight), ctx.signal)) yield* batch;
      };
    } else {
      throw new Error(`${desc.typeName}.${method.name}: ${method.methodKind} RPCs are not served`);
    }
  }
  return { desc, impl: impl as RegisteredService["impl"], model };
}
