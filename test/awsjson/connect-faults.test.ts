import { describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import type { ServiceImpl } from "@connectrpc/connect";
import { swf, serviceUnavailable } from "../../src/faults.ts";
import { createFaultInterceptor, faultFromConnectError, faultInterceptor, toConnectError } from "../../src/faults-connect.ts";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import type { PollForActivityTaskRequest } from "../../gen/taskgate/swf/v1/service_pb.ts";

describe("toConnectError", () => {
  it("turns a Fault into a ConnectError with the fault detail", () => {
    const e = toConnectError(swf.unknownResource("Unknown domain: x"));
    expect(e.code).toBe(Code.NotFound);
    expect(e.rawMessage).toBe("Unknown domain: x");
    expect(faultFromConnectError(e)).toEqual({ name: "UnknownResourceFault", namespace: "com.amazonaws.swf.base.model", message: "Unknown domain: x" });
    expect(toConnectError(serviceUnavailable(new Error("db"))).code).toBe(Code.Unavailable);
  });

  it("passes a ConnectError through", () => {
    const orig = new ConnectError("x", Code.Aborted);
    expect(toConnectError(orig)).toBe(orig);
    expect(faultFromConnectError(orig)).toBeUndefined();
  });

  it("hides anything else behind Internal", () => {
    const e = toConnectError(new Error("secret"));
    expect(e.code).toBe(Code.Internal);
    expect(e.rawMessage).not.toContain("secret");
    expect(faultFromConnectError(e)?.name).toBe("InternalFailure");
  });
});

describe("faultInterceptor", () => {
  const impl: Partial<ServiceImpl<typeof SimpleWorkflowService>> = {
    describeDomain(req) {
      throw swf.unknownResource(`Unknown domain: ${req.name ?? ""}`);
    },
    pollForActivityTask(req: PollForActivityTaskRequest) {
      if (req.domain === "oops") throw new TypeError("secret internals");
      return {};
    },
    async *streamActivityTasks() {
      yield { taskToken: "t1", startedEventId: 1n };
      throw swf.unknownResource("Unknown task list");
    },
  };

  function client(interceptor = faultInterceptor) {
    const transport = createRouterTransport(({ service }) => service(SimpleWorkflowService, impl), { router: { interceptors: [interceptor] } });
    return createClient(SimpleWorkflowService, transport);
  }

  it("sends a unary fault with its AWS name", async () => {
    const err = await client()
      .describeDomain({ name: "x" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    const ce = err as ConnectError;
    expect(ce.code).toBe(Code.NotFound);
    expect(ce.rawMessage).toBe("Unknown domain: x");
    expect(faultFromConnectError(ce)).toEqual({ name: "UnknownResourceFault", namespace: "com.amazonaws.swf.base.model", message: "Unknown domain: x" });
  });

  it("hides an internal error and reports its cause to the hook", async () => {
    const causes: unknown[] = [];
    const err = await client(createFaultInterceptor((c) => causes.push(c)))
      .pollForActivityTask({ domain: "oops" })
      .catch((e: unknown) => e);
    const ce = err as ConnectError;
    expect(ce.code).toBe(Code.Internal);
    expect(ce.message).not.toContain("secret");
    expect(faultFromConnectError(ce)?.name).toBe("InternalFailure");
    expect(causes).toHaveLength(1);
    expect(String(causes[0])).toContain("secret internals");
  });

  it("translates errors of a streaming handler after messages were sent", async () => {
    const got: string[] = [];
    let caught: unknown;
    try {
      for await (const m of client().streamActivityTasks({ domain: "d" })) got.push(m.taskToken ?? "");
    } catch (e) {
      caught = e;
    }
    expect(got).toEqual(["t1"]);
    expect(caught).toBeInstanceOf(ConnectError);
    expect((caught as ConnectError).code).toBe(Code.NotFound);
    expect(faultFromConnectError(caught as ConnectError)?.name).toBe("UnknownResourceFault");
  });
});
