// Schedule arithmetic: periods, DateTime literals, the instances of a Schedule (cron at the start of
// each period, timeseries at its end, backfill of past periods, month-end days) and the next
// instance after an instant. Cases are data in fixtures/schedules/*.json; instants are UTC.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  addPeriods,
  formatDateTime,
  nextInstanceAfter,
  parseDateTime,
  parsePeriod,
  scheduledInstances,
  scheduleSpec,
  type ScheduleFields,
  type ScheduleType,
  type ScheduledInstance,
} from "../../src/datapipeline/schedule.ts";

const dir = join(import.meta.dirname, "fixtures/schedules");
const load = <T>(f: string): T => JSON.parse(readFileSync(join(dir, f), "utf8")) as T;

/** "2012-09-01T00:00:00" (UTC) or an ISO instant with a fraction and Z. */
const at = (s: string): number => Date.parse(s.endsWith("Z") ? s : `${s}Z`);
const show = (i: ScheduledInstance): string[] => [i.scheduledStartTime, i.scheduledEndTime, i.runAt].map(formatDateTime);

interface PeriodCase {
  text: string;
  minMinutes?: number;
  period?: { count: number; unit: string };
  error?: string;
}

describe("periods", () => {
  it.each(load<PeriodCase[]>("periods.json").map((c) => [c.text, c] as const))("%s", (_t, c) => {
    const p = c.minMinutes === undefined ? parsePeriod(c.text) : parsePeriod(c.text, c.minMinutes);
    expect(p).toEqual(c.period ?? { error: c.error });
  });
});

interface DateTimeCase {
  text: string;
  valid: boolean;
}

describe("DateTime literals", () => {
  it.each(load<DateTimeCase[]>("datetimes.json").map((c) => [c.text, c] as const))("%s", (_t, c) => {
    const ms = parseDateTime(c.text);
    if (c.valid) expect(ms === undefined ? undefined : formatDateTime(ms)).toBe(c.text);
    else expect(ms).toBeUndefined();
  });
});

interface ArithmeticCase {
  name: string;
  from: string;
  period: string;
  n: number;
  result: string;
}

describe("period arithmetic", () => {
  it.each(load<ArithmeticCase[]>("arithmetic.json").map((c) => [c.name, c] as const))("%s", (_n, c) => {
    const p = parsePeriod(c.period, 1);
    if ("error" in p) throw new Error(p.error);
    expect(formatDateTime(addPeriods(at(c.from), p, c.n))).toBe(c.result);
  });
});

interface InstancesCase {
  name: string;
  schedule: ScheduleFields;
  scheduleType: ScheduleType;
  activation: string;
  until?: string;
  max?: number;
  instances?: string[][];
  count?: number;
  first?: string[];
  last?: string[];
  next?: { after: string; instance: string[] | null }[];
}

describe("scheduled instances", () => {
  it.each(load<InstancesCase[]>("instances.json").map((c) => [c.name, c] as const))("%s", (_n, c) => {
    const spec = scheduleSpec(c.schedule);
    if ("errors" in spec) throw new Error(spec.errors.join("; "));
    if (c.until !== undefined) {
      const got = scheduledInstances(spec, c.scheduleType, at(c.activation), at(c.until), c.max).map(show);
      if (c.instances) expect(got).toEqual(c.instances);
      if (c.count !== undefined) expect(got.length).toBe(c.count);
      if (c.first) expect(got[0]).toEqual(c.first);
      if (c.last) expect(got[got.length - 1]).toEqual(c.last);
    }
    for (const n of c.next ?? []) {
      const i = nextInstanceAfter(spec, c.scheduleType, at(c.activation), at(n.after));
      expect(i === undefined ? null : show(i), `after ${n.after}`).toEqual(n.instance);
    }
  });
});

interface SpecCase {
  name: string;
  schedule: ScheduleFields;
  errors: string[];
}

describe("Schedule objects that cannot be scheduled", () => {
  it.each(load<SpecCase[]>("spec-errors.json").map((c) => [c.name, c] as const))("%s", (_n, c) => {
    expect(scheduleSpec(c.schedule)).toEqual({ errors: c.errors });
  });
});
