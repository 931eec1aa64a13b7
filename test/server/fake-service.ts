// A fake SimpleWorkflowService on the real generated descriptor, for server tests: ListDomains
// echoes its nextPageToken, or holds the request while it is "hold" until the test releases it
// (with an answer of the test's choosing), recording what the request's Delivery reported.
import { Writable } from "node:stream";
import type { ServiceImpl } from "@connectrpc/connect";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { deliveryKey } from "../../src/request/delivery.ts";
import { serviceUnavailable } from "../../src/faults.ts";
import { loadModel } from "../../src/model/model.ts";
import type { RegisteredService } from "../../src/services/registry.ts";
import { createLogger } from "../../src/server/logger.ts";
import { defaults, type Config } from "../../src/server/config.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";

/** A held request. */
export interface Hold {
  delivered: boolean;
  undelivered: boolean;
  aborted: boolean;
  /** Answers the request; its nextPageToken is `answer`, or a ServiceUnavailable fault for "fail". */
  release(answer?: string): void;
}

export function fakeService() {
  const holds: Hold[] = [];
  const impl: Partial<ServiceImpl<typeof SimpleWorkflowService>> = {
    async listDomains(req, ctx) {
      if (req.nextPageToken !== "hold") return { domainInfos: [], nextPageToken: `echo:${req.nextPageToken ?? ""}` };
      const delivery = ctx.values.get(deliveryKey);
      let release = (_answer: string): void => {};
      const answered = new Promise<string>((r) => (release = r));
      const hold: Hold = { delivered: false, undelivered: false, aborted: false, release: (answer = "released") => release(answer) };
      delivery?.onDelivered(() => (hold.delivered = true));
      delivery?.onUndelivered(() => (hold.undelivered = true));
      ctx.signal.addEventListener("abort", () => (hold.aborted = true));
      holds.push(hold);
      const answer = await answered;
      // "fail": the answer is an error, as when the store fails while a claimed task's answer is built.
      if (answer === "fail") throw serviceUnavailable(new Error("the answer failed"));
      return { domainInfos: [], nextPageToken: answer };
    },
  };
  const service: RegisteredService = { desc: SimpleWorkflowService, impl: impl as RegisteredService["impl"], model: loadModel("swf") };
  return { service, holds };
}

/** A logger whose lines are kept, parsed. */
export function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n")) if (l.trim() !== "") lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger("debug", dest) };
}

/** The Connect path of a SimpleWorkflowService method. */
export function rpcUrl(base: string, method: string): string {
  return `${base}/${SimpleWorkflowService.typeName}/${method}`;
}

/**
 * Starts a server (debug log captured, 0.5 s shutdown grace, `over` on top) serving `fake`, whose
 * held requests its shutdown hook releases with `shutdownAnswer` (each Hold's default when
 * undefined); the server goes into `running`, for the test file's afterEach to close.
 */
export async function startWithFake<F extends { service: RegisteredService; holds: { release(answer?: string): void }[] }>(
  running: RunningServer[],
  fake: F,
  over: Partial<Config> = {},
  shutdownAnswer?: string,
) {
  const logs = captureLogs();
  const server = await startServer({
    config: { ...defaults, port: 0, logLevel: "debug", shutdownGraceSeconds: 0.5, ...over },
    logger: logs.logger,
    services: [fake.service],
    ready: () => true,
    onShutdown: async () => {
      for (const h of fake.holds) h.release(shutdownAnswer);
    },
  });
  running.push(server);
  return { server, fake, logs };
}
