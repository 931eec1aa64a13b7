import { describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { child, createLogger } from "../../src/server/logger.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n")) if (l.trim() !== "") lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, dest };
}

describe("createLogger", () => {
  it("redacts tokens, payloads and credentials at the top level and two levels down", () => {
    const { lines, dest } = capture();
    const log = createLogger("info", dest);
    log.info(
      {
        taskToken: "tok",
        req: { headers: { authorization: "AWS4-HMAC-SHA256 Credential=…", host: "h" }, taskToken: "tok2" },
        call: { request: { input: "in", result: "out", details: "d", domain: "kept" } },
        credentials: { accessKeyId: "a" },
        db: { password: "pw" },
      },
      "hello",
    );
    expect(lines).toHaveLength(1);
    const l = lines[0];
    expect(l.taskToken).toBe("[redacted]");
    expect(l.req).toEqual({ headers: { authorization: "[redacted]", host: "h" }, taskToken: "[redacted]" });
    expect(l.call).toEqual({ request: { input: "[redacted]", result: "[redacted]", details: "[redacted]", domain: "kept" } });
    expect(l.credentials).toBe("[redacted]");
    expect(l.db).toEqual({ password: "[redacted]" });
    expect(JSON.stringify(l)).not.toMatch(/tok|AWS4|"in"|"pw"/);
  });

  it("honours the level, and child() tags the component", () => {
    const { lines, dest } = capture();
    const log = createLogger("warn", dest);
    log.info("dropped");
    child(log, "server").warn({ n: 1 }, "kept");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, component: "server", service: "taskgate", n: 1, msg: "kept" });
  });

  it("is silent at level silent", () => {
    const { lines, dest } = capture();
    const log = createLogger("silent", dest);
    log.fatal("nothing");
    expect(lines).toHaveLength(0);
  });
});
