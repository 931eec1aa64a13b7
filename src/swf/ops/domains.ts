// Domain operations: register, describe, list, (un)deprecate, and the tags of a domain.
import type * as pb from "../../../gen/taskgate/swf/v1/service_pb.ts";
import { swf } from "../../faults.ts";
import { checkTags } from "../../resources/tags.ts";
import { parseSwfDomainArn, type ArnScope } from "../../resources/arn.ts";
import type { Sql } from "../../store/db.ts";
import { parseRetentionDays } from "../values.ts";
import { domainInfo, registrationStatusName } from "../present.ts";
import { knownDomain } from "../lookup.ts";
import { limits, pageSize, type Res, type Swf } from "../context.ts";
import * as st from "../../store/swf.ts";

/** The partition, region and account of domain ARNs: the configured ones (`--region`, `--account-id`). */
function scopeOf(ctx: Swf): ArnScope {
  return ctx.arnScope;
}

/** Tags a domain may carry. */
const maxTags = 50;

/** Checks a domain's tags (SWF: at most 50). */
function checkDomainTags(tags: { key?: string; value?: string }[], path: string): { key: string; value: string }[] {
  return checkTags(tags, path, maxTags, (n) => swf.tooManyTags(`A domain can have at most ${maxTags} tags; ${n} were given.`));
}

/** RegisterDomain. */
export async function registerDomain(ctx: Swf, req: pb.RegisterDomainRequest): Promise<Res<typeof pb.RegisterDomainResponseSchema>> {
  parseRetentionDays(req.workflowExecutionRetentionPeriodInDays!, "workflowExecutionRetentionPeriodInDays");
  const tags = checkDomainTags(req.tags, "tags");
  await ctx.tx(async (uow) => {
    if ((await st.countDomains(uow.sql)) >= limits.domains) throw swf.limitExceeded(`The maximum number of domains (${limits.domains}) is registered.`);
    const ok = await st.insertDomain(uow.sql, {
      name: req.name!,
      status: "REGISTERED",
      description: req.description ?? null,
      retentionDays: req.workflowExecutionRetentionPeriodInDays!,
      createdMs: ctx.clock.now(),
    });
    if (!ok) throw swf.domainAlreadyExists(req.name!);
    await st.putDomainTags(uow.sql, req.name!, tags);
  });
  return {};
}

/** TagResource: adds or replaces tags of a domain (at most 50 in all). */
export async function tagResource(ctx: Swf, req: pb.TagResourceRequest): Promise<Res<typeof pb.TagResourceResponseSchema>> {
  const tags = checkDomainTags(req.tags, "tags");
  await ctx.tx(async (uow) => {
    const d = await domainOfArn(uow.sql, req.resourceArn!, scopeOf(ctx));
    const keys = new Set([...(await st.domainTags(uow.sql, d.name)).map((t) => t.key), ...tags.map((t) => t.key)]);
    if (keys.size > maxTags) throw swf.tooManyTags(`A domain can have at most ${maxTags} tags; ${d.name} would have ${keys.size}.`);
    await st.putDomainTags(uow.sql, d.name, tags);
  });
  return {};
}

/** UntagResource. */
export async function untagResource(ctx: Swf, req: pb.UntagResourceRequest): Promise<Res<typeof pb.UntagResourceResponseSchema>> {
  await ctx.tx(async (uow) => {
    const d = await domainOfArn(uow.sql, req.resourceArn!, scopeOf(ctx));
    await st.removeDomainTags(uow.sql, d.name, req.tagKeys);
  });
  return {};
}

/** ListTagsForResource. */
export async function listTagsForResource(ctx: Swf, req: pb.ListTagsForResourceRequest): Promise<Res<typeof pb.ListTagsForResourceResponseSchema>> {
  const tags = await ctx.db.tx(async (sql) => st.domainTags(sql, (await domainOfArn(sql, req.resourceArn!, scopeOf(ctx))).name));
  return { tags };
}

/** The domain an ARN in `scope` names (`arn:aws:swf:<region>:<account>:/domain/<name>`, as DescribeDomain returns it). */
async function domainOfArn(sql: Sql, arn: string, scope: ArnScope): Promise<st.DomainRow> {
  const name = parseSwfDomainArn(arn, scope);
  if (name === undefined)
    throw swf.unknownResource(`Unknown resource: ${arn} is not the ARN of an SWF domain of this server (${scope.region}, account ${scope.account}): arn:${scope.partition}:swf:${scope.region}:${scope.account}:/domain/<name>`);
  return knownDomain(sql, name);
}

/** DescribeDomain. */
export async function describeDomain(ctx: Swf, req: pb.DescribeDomainRequest): Promise<Res<typeof pb.DescribeDomainResponseSchema>> {
  const d = await ctx.db.tx((sql) => st.getDomain(sql, req.name!));
  if (!d) throw swf.unknownResource(`Unknown domain: ${req.name}`);
  return {
    domainInfo: domainInfo(d, scopeOf(ctx)),
    configuration: { workflowExecutionRetentionPeriodInDays: d.retentionDays },
  };
}

/** ListDomains: by name, one registration status, paged. */
export async function listDomains(ctx: Swf, req: pb.ListDomainsRequest): Promise<Res<typeof pb.ListDomainsResponseSchema>> {
  const status = registrationStatusName(req.registrationStatus);
  const limit = pageSize(req.maximumPageSize);
  const cursor = req.nextPageToken ? ctx.pages.read<{ k: "ld"; a: string }>(req.nextPageToken, "ld") : undefined;
  const rows = await ctx.db.tx((sql) => st.listDomains(sql, status, cursor?.a, req.reverseOrder ?? false, limit + 1));
  const page = rows.slice(0, limit);
  return {
    domainInfos: page.map((d) => domainInfo(d, scopeOf(ctx))),
    nextPageToken: rows.length > limit ? ctx.pages.issue({ k: "ld", a: page[page.length - 1].name }) : undefined,
  };
}

/** DeprecateDomain. */
export async function deprecateDomain(ctx: Swf, req: pb.DeprecateDomainRequest): Promise<Res<typeof pb.DeprecateDomainResponseSchema>> {
  await ctx.tx(async (uow) => {
    const d = await knownDomain(uow.sql, req.name!);
    if (d.status !== "REGISTERED") throw swf.domainDeprecated(`Domain is already deprecated: ${d.name}`);
    await st.setDomainStatus(uow.sql, d.name, "DEPRECATED");
  });
  return {};
}

/** UndeprecateDomain. */
export async function undeprecateDomain(ctx: Swf, req: pb.UndeprecateDomainRequest): Promise<Res<typeof pb.UndeprecateDomainResponseSchema>> {
  await ctx.tx(async (uow) => {
    const d = await knownDomain(uow.sql, req.name!);
    if (d.status === "REGISTERED") throw swf.domainAlreadyExists(d.name);
    await st.setDomainStatus(uow.sql, d.name, "REGISTERED");
  });
  return {};
}
