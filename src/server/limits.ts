// Connection limits and the process's file-descriptor budget.
//
// Node does not report an accept() that fails for want of a file descriptor: libuv keeps one
// spare descriptor, and on EMFILE/ENFILE it closes the spare, accepts every pending connection,
// closes it at once and opens the spare again, without telling the server (its 'error' event
// fires only when the spare itself is missing). Clients see their connection closed; the server
// sees nothing. So the server watches the budget itself: the kernel gives a new socket the lowest
// free descriptor number, so an accepted socket whose number is within `fdHeadroom` of the
// limit means the table is nearly full, and the server closes that connection itself and counts
// it, leaving the last descriptors for the database and log files.
import { readdirSync, readFileSync } from "node:fs";
import type * as net from "node:net";

/**
 * The soft limit on open files of this process (`ulimit -n`, RLIMIT_NOFILE), read from
 * /proc/self/limits; undefined where that file does not exist (not Linux) or says "unlimited".
 * Node raises the soft limit to the hard limit at start, so this is the hard limit it found.
 */
export function readOpenFileLimit(path = "/proc/self/limits"): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (m === null || !/^\d+$/.test(m[1])) return undefined;
  return Number(m[1]);
}

/** How many descriptors this process has open (entries of /proc/self/fd); undefined if unreadable. Not cheap with many open: call at start only. */
export function countOpenFiles(path = "/proc/self/fd"): number | undefined {
  try {
    return readdirSync(path).length;
  } catch {
    return undefined;
  }
}

/**
 * Descriptors kept free for everything but client connections (database connections and files,
 * logs): 1/32 of the limit, at least 8 and at most 64.
 */
export function fdHeadroom(limit: number): number {
  return Math.min(64, Math.max(8, Math.floor(limit / 32)));
}

/** The descriptor number of a connected socket, where the platform exposes it. */
export function fdOf(socket: net.Socket): number | undefined {
  const handle = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}

/** A condition that can happen often (refused connections): counted always, logged at most once per interval. */
export class RateLimitedCounter {
  /** Occurrences since the start. */
  count = 0;
  /** When the last occurrence happened (epoch ms). */
  lastAt: number | undefined;
  readonly #intervalMs: number;
  readonly #report: (occurrences: number, total: number) => void;
  readonly #now: () => number;
  #unreported = 0;
  #lastReportAt = -Infinity;
  #timer: NodeJS.Timeout | undefined;

  /**
   * `report` is called with the occurrences since its last call and the total: at once for the
   * first occurrence after a quiet interval, otherwise once the interval since the last report
   * has passed.
   */
  constructor(intervalMs: number, report: (occurrences: number, total: number) => void, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#report = report;
    this.#now = now;
  }

  /** Counts one occurrence. */
  note(): void {
    const now = this.#now();
    this.count++;
    this.lastAt = now;
    this.#unreported++;
    const wait = this.#lastReportAt + this.#intervalMs - now;
    if (wait <= 0) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), wait).unref();
  }

  /** The counter as /healthz shows it. */
  snapshot(): { count: number; last: string | null } {
    return { count: this.count, last: this.lastAt === undefined ? null : new Date(this.lastAt).toISOString() };
  }

  /** Reports what is pending and stops the timer. */
  close(): void {
    this.#flush();
  }

  #flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#unreported === 0) return;
    const n = this.#unreported;
    this.#unreported = 0;
    this.#lastReportAt = this.#now();
    this.#report(n, this.count);
  }
}
