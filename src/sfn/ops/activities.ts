// Activity operations: create (idempotent on the name), describe, list (paged), delete (idempotent).
import type * as pb from "../../../gen/taskgate/sfn/v1/service_pb.ts";
import { Fault, sfn } from "../../faults.ts";
import { inScope, parseStatesArn } from "../../resources/arn.ts";
import * as st from "../../store/sfn.ts";
import type { Sfn } from "../engine.ts";
import { activityItem, checkEncryption, checkName, checkResourceTags, pageSize, type Res } from "../present.ts";

/** Activities an account may have (AWS's default quota: 10,000). */
export const maxActivities = 10_000;

/**
 * CreateActivity. Idempotent on the name: creating an existing activity again returns its ARN
 * and creation date and leaves its tags as they are, whatever tags the request carries (as AWS
 * documents). Only AWS_OWNED_KEY encryption is accepted, so a repeated request can never ask
 * for another encryption (AWS's ActivityAlreadyExists).
 */
export async function createActivity(ctx: Sfn, req: pb.CreateActivityRequest): Promise<Res<typeof pb.CreateActivityResponseSchema>> {
  const name = req.name!;
  checkName(name, "activity");
  const tags = checkResourceTags(req.tags, `activity ${name}`);
  checkEncryption(req.encryptionConfiguration);
  const row = await ctx.tx(async (uow) => {
    const existing = await st.getActivity(uow.sql, name);
    if (existing) return existing;
    if ((await st.countActivities(uow.sql)) >= maxActivities) throw sfn.activityLimitExceeded(`The maximum number of activities (${maxActivities}) exists; delete one first.`);
    const a: st.ActivityRow = { name, createdMs: ctx.clock.now(), encryption: null };
    if (!(await st.insertActivity(uow.sql, a))) return (await st.getActivity(uow.sql, name))!;
    await st.putTags(uow.sql, "activity", name, tags);
    return a;
  });
  const item = activityItem(ctx.scope, row);
  return { activityArn: item.activityArn, creationDate: item.creationDate };
}

/** The name of the activity an ARN names, or undefined when the ARN lies in another region or account. */
function activityName(ctx: Sfn, arn: string): string | undefined {
  const a = parseStatesArn(arn, "activity");
  return inScope(a, ctx.scope) ? a.name : undefined;
}

/** DescribeActivity. */
export async function describeActivity(ctx: Sfn, req: pb.DescribeActivityRequest): Promise<Res<typeof pb.DescribeActivityResponseSchema>> {
  const name = activityName(ctx, req.activityArn!);
  const a = name === undefined ? undefined : await ctx.db.tx((sql) => st.getActivity(sql, name));
  if (!a) throw sfn.activityDoesNotExist(`Activity Does Not Exist: '${req.activityArn}'`);
  return activityItem(ctx.scope, a);
}

/** Reads a page token of a list operation; InvalidToken (the model's error) for a bad or expired one. */
export function readToken<B extends { k: string }>(ctx: Sfn, token: string, kind: string): B {
  try {
    return ctx.pages.read<B>(token, kind);
  } catch (e) {
    if (e instanceof Fault) throw sfn.invalidToken(`Invalid Token: ${e.message}`);
    throw e;
  }
}

/** ListActivities: by name, paged (maxResults 1 to 1000, default 100). */
export async function listActivities(ctx: Sfn, req: pb.ListActivitiesRequest): Promise<Res<typeof pb.ListActivitiesResponseSchema>> {
  const limit = pageSize(req.maxResults);
  const cursor = req.nextToken ? readToken<{ k: "sfn-la"; a: string }>(ctx, req.nextToken, "sfn-la") : undefined;
  const rows = await ctx.db.tx((sql) => st.listActivities(sql, cursor?.a, limit + 1));
  const items = rows.slice(0, limit);
  return {
    activities: items.map((a) => activityItem(ctx.scope, a)),
    nextToken: rows.length > limit ? ctx.pages.issue({ k: "sfn-la", a: items[items.length - 1].name }) : undefined,
  };
}

/** DeleteActivity: deletes the activity and its tags; deleting one that does not exist succeeds, as on AWS. */
export async function deleteActivity(ctx: Sfn, req: pb.DeleteActivityRequest): Promise<Res<typeof pb.DeleteActivityResponseSchema>> {
  const name = activityName(ctx, req.activityArn!);
  if (name !== undefined) await ctx.tx((uow) => st.deleteActivity(uow.sql, name));
  return {};
}
