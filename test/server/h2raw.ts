// A raw HTTP/2 client for tests that must misbehave (send half a preface, half a header block,
// more streams than the server allows) or see exactly which frames the server sends: frames are
// written by hand and HPACK uses only literal fields without indexing.
import * as net from "node:net";

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export const FrameType = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
export const ErrorCode = { NO_ERROR: 0, PROTOCOL_ERROR: 1, REFUSED_STREAM: 7, CANCEL: 8, ENHANCE_YOUR_CALM: 11 } as const;

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

/** One frame on the wire. */
export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

function hpackInt(n: number, prefixBits: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (n < max) return [n];
  const out = [max];
  n -= max;
  while (n >= 128) {
    out.push((n % 128) + 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A header block of literal fields without indexing (RFC 7541 §6.2.2), no Huffman coding. */
export function headerBlock(fields: [string, string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    const n = Buffer.from(name, "latin1");
    const v = Buffer.from(value, "latin1");
    parts.push(Buffer.from([0x00, ...hpackInt(n.length, 7)]), n, Buffer.from(hpackInt(v.length, 7)), v);
  }
  return Buffer.concat(parts);
}

/** Request header fields of a POST. */
export function postHeaders(path: string, contentType: string, extra: [string, string][] = []): [string, string][] {
  return [[":method", "POST"], [":scheme", "http"], [":authority", "127.0.0.1"], [":path", path], ["content-type", contentType], ...extra];
}

/** A raw HTTP/2 connection that records every frame the server sends. */
export class RawH2 {
  readonly socket: net.Socket;
  readonly frames: Frame[] = [];
  closed = false;
  #buf: Buffer = Buffer.alloc(0);
  #waiters: (() => void)[] = [];

  private constructor(socket: net.Socket, ackSettings: boolean) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, chunk]);
      while (this.#buf.length >= 9) {
        const len = this.#buf.readUIntBE(0, 3);
        if (this.#buf.length < 9 + len) break;
        const f: Frame = { type: this.#buf[3], flags: this.#buf[4], stream: this.#buf.readUInt32BE(5) & 0x7fffffff, payload: this.#buf.subarray(9, 9 + len) };
        this.#buf = this.#buf.subarray(9 + len);
        this.frames.push(f);
        if (ackSettings && f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0) socket.write(frame(FrameType.SETTINGS, Flag.ACK, 0));
      }
      this.#wake();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
  }

  /** Connects; unless `preface` is false, sends the client preface and an empty SETTINGS frame. */
  static async connect(port: number, opts: { preface?: boolean; ackSettings?: boolean } = {}): Promise<RawH2> {
    const socket = net.connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const c = new RawH2(socket, opts.ackSettings ?? true);
    if (opts.preface ?? true) socket.write(Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0)]));
    return c;
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  /** Sends a complete request: HEADERS, then the body in one DATA frame ending the stream. */
  request(stream: number, fields: [string, string][], body?: Buffer): void {
    const end = body === undefined ? Flag.END_STREAM : 0;
    const parts = [frame(FrameType.HEADERS, Flag.END_HEADERS | end, stream, headerBlock(fields))];
    if (body !== undefined) parts.push(frame(FrameType.DATA, Flag.END_STREAM, stream, body));
    this.socket.write(Buffer.concat(parts));
  }

  /** Waits until `pred` holds (checked after every frame and on close), or fails after `ms`. */
  async until(pred: () => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`condition not met within ${ms} ms; frames: ${this.frames.map((f) => `${f.type}/${f.stream}`).join(" ")}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** RST_STREAM error codes received, by stream. */
  resets(): Map<number, number> {
    const m = new Map<number, number>();
    for (const f of this.frames) if (f.type === FrameType.RST_STREAM) m.set(f.stream, f.payload.readUInt32BE(0));
    return m;
  }

  /** The GOAWAY received, if any. */
  goaway(): { lastStream: number; code: number } | undefined {
    const f = this.frames.find((x) => x.type === FrameType.GOAWAY);
    return f === undefined ? undefined : { lastStream: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4) };
  }

  /** Streams on which a HEADERS frame arrived (a response began). */
  answered(): Set<number> {
    return new Set(this.frames.filter((f) => f.type === FrameType.HEADERS).map((f) => f.stream));
  }

  /** The server's SETTINGS parameters (id -> value) from its first SETTINGS frame. */
  serverSettings(): Map<number, number> | undefined {
    const f = this.frames.find((x) => x.type === FrameType.SETTINGS && (x.flags & Flag.ACK) === 0);
    if (f === undefined) return undefined;
    const m = new Map<number, number>();
    for (let i = 0; i + 6 <= f.payload.length; i += 6) m.set(f.payload.readUInt16BE(i), f.payload.readUInt32BE(i + 2));
    return m;
  }

  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }
}

/** A Connect unary JSON body. */
export function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}
