// Calls a method the SimpleWorkflowService does not have over every RPC protocol, for tests of the
// error each protocol must answer with (its own `unimplemented`, never an AWS JSON body).
import { ConnectError, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";

/** The error each RPC protocol answered for `NoSuchMethod`, by protocol (undefined: it succeeded). */
export async function callUnknownMethod(baseUrl: string): Promise<Record<string, ConnectError | undefined>> {
  const noSuchMethod = { ...SimpleWorkflowService.method.listDomains, name: "NoSuchMethod" };
  const transports: Record<string, Transport> = {
    "connect json, HTTP/1.1": createConnectTransport({ baseUrl, httpVersion: "1.1" }),
    "connect proto, HTTP/2": createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true }),
    grpc: createGrpcTransport({ baseUrl }),
    "grpc-web": createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
  };
  const out: Record<string, ConnectError | undefined> = {};
  for (const [name, t] of Object.entries(transports)) {
    out[name] = await t.unary(noSuchMethod, undefined, undefined, undefined, {}).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
  }
  return out;
}
