// gRPC health checking (grpc.health.v1.Health: Check, List, Watch), as load balancers, Kubernetes
// probes and grpc-health-probe call it (https://github.com/grpc/grpc/blob/master/doc/health-checking.md).
//
// One status for the whole server, reported under "" and under the full name of every service it
// serves (they share one store): SERVING while the store answers, NOT_SERVING while it does not
// and from the moment the server starts draining (shutdown) on. Check of a name the server does
// not serve is NOT_FOUND; Watch of one answers SERVICE_UNKNOWN and stays open, as the protocol
// asks. Watch sends the current status at once and then each change; while at least one Watch is
// open the store's health is sampled every `pollMs` (default 1 s), so a change reaches watchers
// within that time. On drain every Watch receives NOT_SERVING and ends (status OK), so
// open watches never hold a shutdown up.
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status, type HealthCheckRequest } from "../../gen/grpc/health/v1/health_pb.ts";
import type { RpcService } from "./registry.ts";

/** A serving status of grpc.health.v1 (SERVING, NOT_SERVING, SERVICE_UNKNOWN). */
export type ServingStatus = (typeof Status)[keyof typeof Status];

/** What the health service reads. */
export interface HealthOptions {
  /** Whether the server can serve now (the store answers). Cheap: called on every Check and every sample. */
  readonly ready: () => boolean;
  /** Full names of the services served (besides ""), read on each call so services mounted later count. */
  readonly services: () => readonly string[];
  /** How often open Watch streams sample `ready`, in ms (default 1000, at least 10). */
  readonly pollMs?: number;
}

/** The default sampling period of Watch, in ms. */
export const HEALTH_POLL_MS = 1000;

/** The health service of one server, and its drain switch. */
export class HealthMonitor {
  readonly #opts: HealthOptions;
  readonly #pollMs: number;
  #draining = false;
  /** Watchers waiting for the next change. */
  readonly #waiters = new Set<() => void>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(opts: HealthOptions) {
    this.#opts = opts;
    this.#pollMs = Math.max(10, opts.pollMs ?? HEALTH_POLL_MS);
  }

  /** The overall status: SERVING or NOT_SERVING. */
  overall(): ServingStatus {
    return !this.#draining && this.#opts.ready() ? Status.SERVING : Status.NOT_SERVING;
  }

  /** The status of `service` ("" = the server), or undefined for a name the server does not serve. */
  status(service: string): ServingStatus | undefined {
    if (service !== "" && !this.#opts.services().includes(service)) return undefined;
    return this.overall();
  }

  /** From now on NOT_SERVING everywhere; every open Watch receives it and ends. Idempotent. */
  drain(): void {
    this.#draining = true;
    this.#wakeAll();
  }

  /** The grpc.health.v1.Health service, to mount on the RPC routes. */
  readonly service: RpcService = { desc: Health, impl: this.#impl() };

  #impl(): ServiceImpl<typeof Health> {
    return {
      check: (req: HealthCheckRequest) => {
        const status = this.status(req.service);
        if (status === undefined) throw new ConnectError(`unknown service ${JSON.stringify(req.service)}; this server serves ${this.#opts.services().join(", ")}`, Code.NotFound);
        return { status };
      },
      list: () => {
        const statuses: Record<string, { status: ServingStatus }> = { "": { status: this.overall() } };
        for (const name of this.#opts.services()) statuses[name] = { status: this.overall() };
        return { statuses };
      },
      watch: (req: HealthCheckRequest, ctx: HandlerContext) => this.#watch(req.service, ctx.signal),
    };
  }

  async *#watch(service: string, signal: AbortSignal): AsyncGenerator<{ status: ServingStatus }> {
    let sent: ServingStatus | undefined;
    for (;;) {
      const status = this.status(service) ?? Status.SERVICE_UNKNOWN;
      if (status !== sent) {
        sent = status;
        yield { status };
      }
      if (this.#draining || signal.aborted) return;
      await this.#nextChange(signal);
      if (signal.aborted) return;
    }
  }

  /** Resolves at the next change of the overall status, on drain, or when `signal` aborts. */
  #nextChange(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.#waiters.delete(done);
        signal.removeEventListener("abort", done);
        if (this.#waiters.size === 0) this.#stopSampling();
        resolve();
      };
      this.#waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
      this.#startSampling();
    });
  }

  #startSampling(): void {
    if (this.#timer !== undefined) return;
    // Every sample wakes every watcher, which sends only what differs from what it sent last
    // (a watcher that joined between two samples may have seen a status the sampler has not).
    this.#timer = setInterval(() => this.#wakeAll(), this.#pollMs);
    this.#timer.unref();
  }

  #stopSampling(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #wakeAll(): void {
    for (const w of [...this.#waiters]) w();
  }
}
