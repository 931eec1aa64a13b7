// Schedule arithmetic for Data Pipeline: periods ("15 minutes", "1 hours", "1 Day"), DateTime
// literals, and the instances a Schedule object gives rise to. All instants are epoch
// milliseconds in UTC; nothing here reads a clock (the caller passes activation and "now").

/** The units a period may use (AWS: "N [minutes|hours|days|weeks|months|years]"). */
export type PeriodUnit = "minutes" | "hours" | "days" | "weeks" | "months" | "years";

/** A parsed period: a positive whole count of one unit. */
export interface Period {
  readonly count: number;
  readonly unit: PeriodUnit;
}

/** How instances of a scheduled object are placed in their period: cron runs at its start, timeseries at its end. */
export type ScheduleType = "cron" | "timeseries" | "ondemand";

/** AWS's minimum scheduling interval: 15 minutes. */
export const minPeriodMinutes = 15;

/** AWS's maximum period: 3 years (36 months; 1,096 days for day-based units). */
export const maxPeriodMonths = 36;

const msOf: Record<"minutes" | "hours" | "days" | "weeks", number> = {
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 604_800_000,
};

const maxFixedMs = 1096 * 86_400_000;

/**
 * Parses a period string. Units are case-insensitive and singular or plural ("1 hour", "1 hours",
 * "1 Day", "15 Minutes" all occur in AWS's examples). Returns the reason in AWS-style words when the
 * string is not a period or lies outside `minMinutes` … 3 years. A Schedule's period has AWS's
 * minimum of 15 minutes (the default); other Period fields (retryDelay, attemptTimeout, …) pass
 * their own minimum.
 */
export function parsePeriod(text: string, minMinutes: number = minPeriodMinutes): Period | { readonly error: string } {
  const m = /^\s*(\d{1,9})\s*(minute|hour|day|week|month|year)s?\s*$/i.exec(text);
  if (!m) return { error: `'${text}' is not a valid period; the format is "N [minutes|hours|days|weeks|months|years]".` };
  const count = Number(m[1]);
  const unit = `${m[2].toLowerCase()}s` as PeriodUnit;
  if (count <= 0) return { error: `'${text}' is not a valid period; N must be a positive integer.` };
  if (unit === "minutes" && count < minMinutes) return { error: `'${text}' is shorter than the minimum period of ${minMinutes} minutes.` };
  const tooLong =
    unit === "years" ? count > 3 : unit === "months" ? count > maxPeriodMonths : count * msOf[unit] > maxFixedMs;
  if (tooLong) return { error: `'${text}' is longer than the maximum period of 3 years.` };
  return { count, unit };
}

/** Whether parsePeriod failed. */
export function isPeriodError(p: Period | { readonly error: string }): p is { readonly error: string } {
  return "error" in p;
}

/**
 * `t` plus `n` periods (n may be negative). Minutes to weeks are fixed lengths (UTC has no DST);
 * months and years are calendar steps that keep the day of month and clamp it to the month's
 * last day (Jan 31 + 1 month = Feb 28, or 29 in a leap year), as Joda-Time's plusMonths does.
 */
export function addPeriods(t: number, p: Period, n: number): number {
  if (p.unit === "months" || p.unit === "years") return addMonths(t, p.count * n * (p.unit === "years" ? 12 : 1));
  return t + p.count * n * msOf[p.unit];
}

/** `t` plus `months` calendar months, the day of month clamped to the target month's length. */
export function addMonths(t: number, months: number): number {
  const d = new Date(t);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const ty = y + Math.floor(m / 12);
  const tm = ((m % 12) + 12) % 12;
  const last = new Date(Date.UTC(ty, tm + 1, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), last);
  const ms = t - Date.UTC(y, d.getUTCMonth(), d.getUTCDate());
  return Date.UTC(ty, tm, day) + ms;
}

/**
 * Parses AWS's DateTime literal "YYYY-MM-DDTHH:MM:SS" (UTC, no zone, no fraction). Undefined for
 * anything else, including impossible dates such as 2013-02-29.
 */
export function parseDateTime(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59) return undefined;
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(t).getUTCDate() !== d) return undefined;
  return t;
}

/** An instant as AWS writes DateTime values: "YYYY-MM-DDTHH:MM:SS" in UTC (milliseconds dropped). */
export function formatDateTime(t: number): string {
  return new Date(t).toISOString().slice(0, 19);
}

/** The value of `startAt` that starts a schedule at the pipeline's first activation (deprecated by AWS in favour of on-demand). */
export const firstActivation = "FIRST_ACTIVATION_DATE_TIME";

/** A Schedule object's timing, checked: a period, a start, and at most one of an end time or a count. */
export interface ScheduleSpec {
  readonly period: Period;
  /** A fixed start, or the pipeline's first activation. */
  readonly startMs: number | "firstActivation";
  /** Runs start strictly before this instant, when set. */
  readonly endMs?: number;
  /** At most this many instances, when set. */
  readonly occurrences?: number;
}

/** The fields of a Schedule object as strings (effective values, expressions already resolved). */
export interface ScheduleFields {
  readonly period?: string;
  readonly startAt?: string;
  readonly startDateTime?: string;
  readonly endDateTime?: string;
  readonly occurrences?: string;
}

/**
 * Checks a Schedule object's fields and builds its ScheduleSpec, or lists what is wrong (each
 * message names the field, in the words AWS uses for DateTime fields: "'startDateTime' value must be a
 * literal datetime value.").
 */
export function scheduleSpec(f: ScheduleFields): ScheduleSpec | { readonly errors: readonly string[] } {
  const errors: string[] = [];
  let period: Period | undefined;
  if (f.period === undefined) errors.push("Missing required field: 'period'");
  else {
    const p = parsePeriod(f.period);
    if (isPeriodError(p)) errors.push(`'period' value ${p.error}`);
    else period = p;
  }
  let startMs: number | "firstActivation" | undefined;
  if (f.startAt !== undefined && f.startDateTime !== undefined) errors.push("'startAt' and 'startDateTime' cannot both be set; use one of them.");
  else if (f.startAt !== undefined) {
    if (f.startAt === firstActivation) startMs = "firstActivation";
    else errors.push(`'startAt' value '${f.startAt}' is not valid; the valid value is ${firstActivation}.`);
  } else if (f.startDateTime !== undefined) {
    startMs = parseDateTime(f.startDateTime);
    if (startMs === undefined) errors.push("'startDateTime' value must be a literal datetime value.");
  } else errors.push("Missing required field: one of 'startAt', 'startDateTime'");
  let endMs: number | undefined;
  let occurrences: number | undefined;
  if (f.endDateTime !== undefined && f.occurrences !== undefined) errors.push("'occurrences' cannot be used with 'endDateTime'; use one of them.");
  if (f.endDateTime !== undefined) {
    endMs = parseDateTime(f.endDateTime);
    if (endMs === undefined) errors.push("'endDateTime' value must be a literal datetime value.");
    else if (typeof startMs === "number" && endMs <= startMs) errors.push("'endDateTime' value must be later than 'startDateTime'.");
  }
  if (f.occurrences !== undefined) {
    if (!/^\d{1,9}$/.test(f.occurrences) || Number(f.occurrences) < 1) errors.push("'occurrences' value must be a positive integer.");
    else occurrences = Number(f.occurrences);
  }
  if (errors.length > 0 || period === undefined || startMs === undefined) return { errors };
  return { period, startMs, ...(endMs === undefined ? {} : { endMs }), ...(occurrences === undefined ? {} : { occurrences }) };
}

/** One instance of a scheduled object: its period and the instant it becomes due. */
export interface ScheduledInstance {
  /** Index from 0 in the schedule. */
  readonly index: number;
  /** Start of the instance's period (`@scheduledStartTime`). */
  readonly scheduledStartTime: number;
  /** End of the instance's period (`@scheduledEndTime`). */
  readonly scheduledEndTime: number;
  /** When the instance is due: its period's start (cron) or end (timeseries). */
  readonly runAt: number;
}

/** The schedule's first period start: its startDateTime, or the activation instant cut to whole seconds. */
export function scheduleStart(spec: ScheduleSpec, activationMs: number): number {
  return spec.startMs === "firstActivation" ? Math.floor(activationMs / 1000) * 1000 : spec.startMs;
}

function instanceAt(spec: ScheduleSpec, start: number, index: number, type: ScheduleType): ScheduledInstance | undefined {
  if (index < 0) return undefined;
  if (spec.occurrences !== undefined && index >= spec.occurrences) return undefined;
  const s = addPeriods(start, spec.period, index);
  if (spec.endMs !== undefined && s >= spec.endMs) return undefined;
  const e = addPeriods(start, spec.period, index + 1);
  return { index, scheduledStartTime: s, scheduledEndTime: e, runAt: type === "timeseries" ? e : s };
}

/** An index near the period containing `t` (exact for fixed units, within one for calendar units). */
function estimateIndex(spec: ScheduleSpec, start: number, t: number): number {
  const p = spec.period;
  if (p.unit === "months" || p.unit === "years") {
    const a = new Date(start);
    const b = new Date(t);
    const months = (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + (b.getUTCMonth() - a.getUTCMonth());
    return Math.floor(months / (p.count * (p.unit === "years" ? 12 : 1)));
  }
  return Math.floor((t - start) / (p.count * msOf[p.unit]));
}

/**
 * Every instance due by `untilMs` (runAt <= untilMs), oldest first: the backfill of periods that
 * started in the past and the current one. Cron instances are due at their period's start,
 * timeseries instances at its end (AWS: "Time series style scheduling means that instances are
 * scheduled at the end of each interval"). At most `max` instances (default 10,000) are returned;
 * an on-demand pipeline has no schedule instances (it runs once per activation).
 */
export function scheduledInstances(
  spec: ScheduleSpec,
  type: ScheduleType,
  activationMs: number,
  untilMs: number,
  max = 10_000,
): ScheduledInstance[] {
  if (type === "ondemand") return [];
  const start = scheduleStart(spec, activationMs);
  const out: ScheduledInstance[] = [];
  for (let i = 0; out.length < max; i++) {
    const inst = instanceAt(spec, start, i, type);
    if (inst === undefined || inst.runAt > untilMs) break;
    out.push(inst);
  }
  return out;
}

/**
 * The first instance due strictly after `afterMs` (the next durable timer to set), or undefined when
 * the schedule has ended or the pipeline is on-demand.
 */
export function nextInstanceAfter(spec: ScheduleSpec, type: ScheduleType, activationMs: number, afterMs: number): ScheduledInstance | undefined {
  if (type === "ondemand") return undefined;
  const start = scheduleStart(spec, activationMs);
  let i = Math.max(0, estimateIndex(spec, start, afterMs) - 2);
  for (;;) {
    const inst = instanceAt(spec, start, i, type);
    if (inst === undefined) return undefined;
    if (inst.runAt > afterMs) return inst;
    i++;
  }
}
