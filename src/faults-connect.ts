// Faults on the Connect/gRPC routes: a `Fault` becomes a ConnectError whose code is the fault's
// Connect code and whose details carry a taskgate.common.v1.Fault naming the AWS fault, so a
// Connect client learns the same name (`UnknownResourceFault`) an AWS client reads from `__type`.
// Anything that is neither a Fault nor a ConnectError is an internal failure: its cause stays in
// the server (ConnectError.cause is never serialized) and the client gets a generic message.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Interceptor, StreamResponse } from "@connectrpc/connect";
import { FaultSchema } from "../gen/taskgate/common/v1/options_pb.ts";
import { Fault, internalFailure } from "./faults.ts";

/** The ConnectError a failure is sent as. A ConnectError passes through unchanged. */
export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  const fault = e instanceof Fault ? e : internalFailure(e);
  return new ConnectError(
    fault.message,
    Code[fault.code],
    undefined,
    [{ desc: FaultSchema, value: { name: fault.type, namespace: fault.namespace, message: fault.message } }],
    fault.cause ?? fault,
  );
}

/** The AWS fault a ConnectError carries in its details (for clients and tests). */
export function faultFromConnectError(e: ConnectError): { name: string; namespace: string; message: string } | undefined {
  const f = e.findDetails(FaultSchema)[0];
  return f === undefined ? undefined : { name: f.name, namespace: f.namespace, message: f.message };
}

async function* translateErrors<T>(source: AsyncIterable<T>, onInternal: ((cause: unknown) => void) | undefined): AsyncGenerator<T> {
  try {
    yield* source;
  } catch (e) {
    throw translate(e, onInternal);
  }
}

function translate(e: unknown, onInternal: ((cause: unknown) => void) | undefined): ConnectError {
  if (onInternal !== undefined && !(e instanceof ConnectError) && (!(e instanceof Fault) || e.status >= 500)) {
    onInternal(e instanceof Fault ? (e.cause ?? e) : e);
  }
  return toConnectError(e);
}

/**
 * A server-side interceptor that turns every error of a handler (unary, or a streaming handler
 * while it produces messages) into toConnectError(e). `onInternal` sees the cause of each
 * internal failure (a non-Fault error, or a Fault with status >= 500) so it can be logged.
 */
export function createFaultInterceptor(onInternal?: (cause: unknown) => void): Interceptor {
  return (next) => async (req) => {
    let res;
    try {
      res = await next(req);
    } catch (e) {
      throw translate(e, onInternal);
    }
    if (!res.stream) return res;
    const wrapped: StreamResponse = { ...res, message: translateErrors(res.message, onInternal) };
    return wrapped;
  };
}

/** createFaultInterceptor() without a hook for internal failures. */
export const faultInterceptor: Interceptor = createFaultInterceptor();
