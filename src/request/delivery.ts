// Per-request values shared by the protocol edges (Connect routes, AWS JSON route) and the
// services, without the services knowing which protocol carried the request.
import { createContextKey } from "@connectrpc/connect";

/**
 * Tells a service whether its answer reached the client. A long poll that hands a task to a
 * request registers `onUndelivered`; the protocol edge calls the callbacks when the response
 * could not be written completely (the client went away, the socket broke), so the task goes back
 * to its queue at once instead of waiting for a timeout.
 */
export class Delivery {
  // Lists made on first registration: every request has a Delivery, few register anything (a
  // held long poll registers only once it claimed a task).
  #callbacks: (() => void)[] | undefined;
  #onDelivered: (() => void)[] | undefined;
  #settled = false;

  /** Registers a callback run once when the response was written completely. */
  onDelivered(cb: () => void): void {
    if (this.#settled) return;
    (this.#onDelivered ??= []).push(cb);
  }

  /** Registers a callback run once if the response is not delivered. */
  onUndelivered(cb: () => void): void {
    if (this.#settled) return;
    (this.#callbacks ??= []).push(cb);
  }

  /** Called by the edge when the response was written completely. */
  delivered(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#callbacks = undefined;
    const cbs = this.#onDelivered;
    this.#onDelivered = undefined;
    if (cbs) for (const cb of cbs) cb();
  }

  /** Called by the edge when the response could not be written; runs the callbacks once. */
  undelivered(): void {
    if (this.#settled) return;
    this.#settled = true;
    const cbs = this.#callbacks;
    this.#callbacks = undefined;
    this.#onDelivered = undefined;
    if (cbs) for (const cb of cbs) cb();
  }
}

/** Context key under which the edges put the request's Delivery. Absent in in-memory tests. */
export const deliveryKey = createContextKey<Delivery | undefined>(undefined, { description: "taskgate delivery tracker" });
