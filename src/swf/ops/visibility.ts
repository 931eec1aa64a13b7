// Visibility: listing and counting open and closed executions by start or close time, with one filter.
import { CloseStatus } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import { validationError } from "../../faults.ts";
import { ExecutionTx } from "../history.ts";
import { closeStatusValue, executionInfo } from "../present.ts";
import { knownDomain } from "../lookup.ts";
import { pageSize, type Res, type Swf } from "../context.ts";
import type * as pb from "../../../gen/taskgate/swf/v1/service_pb.ts";
import * as st from "../../store/swf.ts";

/** The filters shared by the List/Count Open/Closed WorkflowExecutions requests. */
interface VisibilityFilters {
  domain?: string;
  startTimeFilter?: { oldestDate?: { seconds: bigint; nanos: number }; latestDate?: { seconds: bigint; nanos: number } };
  closeTimeFilter?: { oldestDate?: { seconds: bigint; nanos: number }; latestDate?: { seconds: bigint; nanos: number } };
  executionFilter?: { workflowId?: string };
  typeFilter?: { name?: string; version?: string };
  tagFilter?: { tag?: string };
  closeStatusFilter?: { status: CloseStatus };
}

/** A visibility request as a store query, or ValidationException for filters AWS does not combine. */
function visibilityQuery(open: boolean, f: VisibilityFilters): Omit<st.ExecutionQuery, "reverse" | "after" | "limit"> {
  const ms = (t: { seconds: bigint; nanos: number } | undefined) => (t === undefined ? undefined : Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6));
  if (f.startTimeFilter && f.closeTimeFilter) throw validationError("startTimeFilter and closeTimeFilter are mutually exclusive: give one of them.");
  const time = f.startTimeFilter ?? f.closeTimeFilter;
  if (!time) throw validationError("Either startTimeFilter or closeTimeFilter must be given.");
  const filters = [f.executionFilter, f.typeFilter, f.tagFilter, f.closeStatusFilter].filter((x) => x !== undefined);
  if (filters.length > 1) throw validationError(`executionFilter, typeFilter, tagFilter${open ? "" : " and closeStatusFilter"} are mutually exclusive: give at most one of them.`);
  const status = f.closeStatusFilter ? Object.entries(closeStatusValue).find(([, v]) => v === f.closeStatusFilter!.status)?.[0] : undefined;
  return {
    domain: f.domain!,
    open,
    by: f.closeTimeFilter ? "close" : "start",
    fromMs: ms(time.oldestDate) ?? 0,
    toMs: ms(time.latestDate),
    workflowId: f.executionFilter?.workflowId,
    typeName: f.typeFilter?.name,
    typeVersion: f.typeFilter?.version,
    tag: f.tagFilter?.tag,
    closeStatus: status,
  };
}

/** ListOpenWorkflowExecutions. */
export async function listOpenWorkflowExecutions(ctx: Swf, req: pb.ListOpenWorkflowExecutionsRequest): Promise<Res<typeof pb.ListOpenWorkflowExecutionsResponseSchema>> {
  return listExecutions(ctx, true, req, req.nextPageToken, req.maximumPageSize, req.reverseOrder);
}

/** ListClosedWorkflowExecutions. */
export async function listClosedWorkflowExecutions(ctx: Swf, req: pb.ListClosedWorkflowExecutionsRequest): Promise<Res<typeof pb.ListClosedWorkflowExecutionsResponseSchema>> {
  return listExecutions(ctx, false, req, req.nextPageToken, req.maximumPageSize, req.reverseOrder);
}

/** CountOpenWorkflowExecutions (capped at 10,000, then truncated). */
export async function countOpenWorkflowExecutions(ctx: Swf, req: pb.CountOpenWorkflowExecutionsRequest): Promise<Res<typeof pb.CountOpenWorkflowExecutionsResponseSchema>> {
  return countExecutions(ctx, true, req);
}

/** CountClosedWorkflowExecutions (capped at 10,000, then truncated). */
export async function countClosedWorkflowExecutions(ctx: Swf, req: pb.CountClosedWorkflowExecutionsRequest): Promise<Res<typeof pb.CountClosedWorkflowExecutionsResponseSchema>> {
  return countExecutions(ctx, false, req);
}

async function listExecutions(ctx: Swf, open: boolean, f: VisibilityFilters, token: string | undefined, maximumPageSize: number | undefined, reverse: boolean | undefined) {
  const q = visibilityQuery(open, f);
  const limit = pageSize(maximumPageSize);
  const cursor = token ? ctx.pages.read<{ k: string; a: [number, string] }>(token, open ? "lo" : "lc") : undefined;
  const rows = await ctx.db.tx(async (sql) => {
    await knownDomain(sql, q.domain);
    return st.listExecutions(sql, { ...q, reverse: reverse ?? false, after: cursor?.a, limit: limit + 1 });
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const now = ctx.clock.now();
  return {
    executionInfos: page.map((r) => executionInfo(new ExecutionTx(r, now))),
    nextPageToken: rows.length > limit ? ctx.pages.issue({ k: open ? "lo" : "lc", a: [q.by === "start" ? last.startMs : last.closeMs!, last.runId] }) : undefined,
  };
}

async function countExecutions(ctx: Swf, open: boolean, f: VisibilityFilters) {
  const q = visibilityQuery(open, f);
  const cap = 10_000;
  const n = await ctx.db.tx(async (sql) => {
    await knownDomain(sql, q.domain);
    return st.countExecutions(sql, q, cap + 1);
  });
  return { count: Math.min(n, cap), truncated: n > cap };
}
