// Every regular expression that sees request data runs in linear time: the AWS models' patterns
// (compiled by src/model/validate.ts, run only on strings within the shape's maximum length) and
// taskgate's own checks (naming rule, durations, priorities, retention). Each is run on
// adversarial input of the longest length it can be given (the shape's maximum, or the request
// body limit) under a time bound a quadratic or exponential regex cannot meet at these lengths.
import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { loadModel, type ServiceName } from "../../src/model/model.ts";
import { modelPatterns, validateRequest } from "../../src/model/validate.ts";
import { defaults } from "../../src/server/config.ts";
import { parseDuration, parsePriority, parseRetentionDays } from "../../src/swf/values.ts";
import { RegisterDomainRequestSchema } from "../../gen/taskgate/swf/v1/service_pb.ts";

/** No string in a request can be longer than the body that carries it. */
const bodyLimit = defaults.maxBodyBytes;
/** Per input; linear patterns need a few ms at a megabyte. The best of three runs is compared. */
const boundMs = 50;

/** One character of each class patterns tend to name, digits first (number grammars). */
const probes = [
  "0", "9", "a", "Z", "_", "-", ".", "+", "e", "!", "~", ":", "/", "|", "@", "=", " ", "\t", "\n", "\r", "\0", "\u001f", "\u007f", "\u0085",
  "é", "\u00ff", "\u2028", "\ud7ff", "\ue000", "\ufffd", "\uffff", "\u{1F600}", "\ud800", "\udc00",
];
/** Characters that end a run: a near miss is a long run of one class followed by one of these. */
const enders = ["!", "x", "0", " ", "\0", "\ud800", "\u{1F600}", "."];

/** `c` repeated to `length` UTF-16 code units (a surrogate pair counts two). */
function run(c: string, length: number): string {
  return c.repeat(Math.floor(length / c.length));
}

/** Adversarial strings of at most `length` code units: runs of each probe, near misses, alternations. */
function* adversarial(length: number): Generator<string> {
  for (const c of probes) {
    yield run(c, length);
    for (const e of enders) {
      yield run(c, length - e.length) + e;
      yield e + run(c, length - e.length);
    }
    for (const d of ["a", "0", ".", " ", "!"]) if (d !== c) yield run(c + d, length);
  }
}

function bestOf3(re: RegExp, s: string): number {
  let best = Infinity;
  for (let i = 0; i < 3 && best >= boundMs; i++) {
    const started = performance.now();
    re.test(s);
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/** The first input on which `re` takes `boundMs` or longer, or undefined. */
function slowInput(re: RegExp, length: number): { input: string; ms: number } | undefined {
  for (const s of adversarial(length)) {
    const ms = bestOf3(re, s);
    if (ms >= boundMs) return { input: s, ms };
  }
  return undefined;
}

function describeInput(s: string): string {
  return `${JSON.stringify(s.slice(0, 12))}… (${s.length} code units, ending ${JSON.stringify(s.slice(-2))})`;
}

describe("model patterns run in linear time", () => {
  for (const service of ["swf", "sfn", "datapipeline"] as ServiceName[]) {
    const patterns = modelPatterns(loadModel(service));
    // One check per pattern, at the longest length any shape using it allows.
    const longest = new Map<string, { re: RegExp | undefined; length: number; shapes: string[] }>();
    for (const p of patterns) {
      const length = Math.min(p.max ?? bodyLimit, bodyLimit);
      const seen = longest.get(p.source);
      if (!seen) longest.set(p.source, { re: p.re, length, shapes: [p.shape] });
      else {
        seen.length = Math.max(seen.length, length);
        seen.shapes.push(p.shape);
      }
    }
    it(`${service}: every pattern compiles`, () => {
      expect(patterns.filter((p) => p.re === undefined).map((p) => p.source)).toEqual([]);
    });
    for (const [source, { re, length, shapes }] of longest) {
      it(`${service}: ${source} (${shapes.join(", ")}) at ${length} characters`, () => {
        const slow = slowInput(re!, length);
        expect(slow === undefined ? undefined : `${slow.ms.toFixed(0)} ms on ${describeInput(slow.input)}`).toBeUndefined();
      });
    }
  }

  it("the check catches a pattern that backtracks quadratically", () => {
    // The shape of the number grammar the AWS JSON converter once used: a digit run split
    // between \d+ and \d* in every way before failing on the last character.
    const quadratic = /^(?:\s*-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*)$/u;
    const slow = slowInput(quadratic, 8_000);
    expect(slow).toBeDefined();
    expect(slow!.input.startsWith("0000")).toBe(true);
  });
});

describe("taskgate's own checks of request strings run in linear time", () => {
  const long = bodyLimit;

  function timed(fn: () => unknown): number {
    let best = Infinity;
    for (let i = 0; i < 3 && best >= boundMs; i++) {
      const started = performance.now();
      try {
        fn();
      } catch {
        // a rejection is the expected outcome; only the time matters here
      }
      best = Math.min(best, performance.now() - started);
    }
    return best;
  }

  it("SWF's naming rule (whitespace at the edges, forbidden characters)", () => {
    const model = loadModel("swf");
    // RegisterDomain.name carries all three sentences of the rule; its max length is 256, but the
    // rule's checks run on whatever length arrives, so they are tried at the body limit.
    const noMax = { ...model, shapes: { ...model.shapes, DomainName: { ...model.shapes.DomainName, max: undefined } } };
    for (const name of [run(" ", long - 1) + "x", "x" + run(" ", long - 1), run(" ", long), run("a", long - 1) + ":", run("\t", long - 1) + "a", run("a", long)]) {
      const ms = timed(() => validateRequest(noMax, "RegisterDomain", RegisterDomainRequestSchema, create(RegisterDomainRequestSchema, { name, workflowExecutionRetentionPeriodInDays: "1" })));
      expect(ms, describeInput(name)).toBeLessThan(boundMs);
    }
  });

  it("durations, priorities and retention periods", () => {
    for (const s of [run("1", long), run("1", long - 1) + "x", "+" + run("1", long - 1) + "x", run("0", long - 1) + " "]) {
      for (const fn of [() => parseDuration(s, "p"), () => parsePriority(s, "p"), () => parseRetentionDays(s, "p")]) {
        expect(timed(fn), describeInput(s)).toBeLessThan(boundMs);
      }
    }
  });
});
