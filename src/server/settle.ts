// The last step of delivery tracking. A response whose last byte the kernel accepted has not
// reached the client yet: a client that resets its connection meanwhile (it went away, it timed
// out) never reads it, and the reset comes back as ECONNRESET/EPIPE on the server's socket within
// a round trip or so. So a written response counts as delivered only after a short settle window
// in which its connection did not fail; a failure within the window makes it undelivered, and its
// long poll puts the task back at once instead of waiting for the task's timeout.
//
// A connection the server closes after its last response (HTTP/1.1 `Connection: close`) would be
// blind to that reset once closed, so it sends FIN at once but keeps reading until the window has
// passed (closeAfterWindow).
//
// Every entry waits the same window, so the entries form a FIFO queue served by one timer.
import type * as net from "node:net";
import type { Delivery } from "../request/delivery.ts";

/** How long a written response waits for its connection to fail before it counts as delivered. */
export const SETTLE_WINDOW_MS = 20;

interface Entry {
  readonly due: number;
  readonly socket: net.Socket;
  /** The response to settle; none for a connection to close at the end of the window. */
  readonly delivery: Delivery | undefined;
}

/** Settles written responses once their window has passed (see the file comment). */
export class DeliverySettler {
  readonly #windowMs: number;
  /** Whether a connection failed (beyond the socket's own `errored`, e.g. its HTTP/2 session failed). */
  readonly #failed: (socket: net.Socket) => boolean;
  #queue: Entry[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(failed: (socket: net.Socket) => boolean = () => false, windowMs = SETTLE_WINDOW_MS) {
    this.#failed = failed;
    this.#windowMs = windowMs;
  }

  /** The response of `delivery` was written completely to `socket`: settle it after the window. */
  written(socket: net.Socket, delivery: Delivery): void {
    this.#queue.push({ due: performance.now() + this.#windowMs, socket, delivery });
    if (this.#timer === undefined) this.#arm();
  }

  /** Sends FIN on `socket` now and destroys it at the end of the window (earlier if the client closes). */
  closeAfterWindow(socket: net.Socket): void {
    if (socket.writable) socket.end();
    this.#queue.push({ due: performance.now() + this.#windowMs, socket, delivery: undefined });
    if (this.#timer === undefined) this.#arm();
  }

  /** Entries waiting for their window to pass. */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  /** Settles every waiting entry now, as the state of its connection says (used at shutdown). */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#run(Infinity);
  }

  #arm(): void {
    const next = this.#queue[this.#head];
    if (next === undefined) return;
    const wait = Math.max(0, Math.ceil(next.due - performance.now()));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#run(performance.now());
      this.#arm();
    }, wait);
  }

  #run(now: number): void {
    while (this.#head < this.#queue.length) {
      const e = this.#queue[this.#head];
      if (e.due > now) break;
      this.#head++;
      if (e.delivery === undefined) e.socket.destroy();
      else if (e.socket.errored != null || this.#failed(e.socket)) e.delivery.undelivered();
      else e.delivery.delivered();
    }
    // Drop the settled prefix now and then instead of shifting on every entry.
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}
