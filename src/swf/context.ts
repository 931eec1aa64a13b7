// What every part of the SWF engine shares: the dispatch core, the page tokens, the two task
// kinds, the documented quotas, queue names.
import { defaultScope, type ArnScope } from "../resources/arn.ts";
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import type { Clock, Dispatch, TaskKind, UnitOfWork, WorkerTasks } from "../dispatch/index.ts";
import type { Database } from "../store/db.ts";
import { ExecutionTx } from "./history.ts";
import { PageTokens } from "../resources/page-token.ts";
import { type ClaimedDecision, type DecisionPayload, decisionTaskKind } from "./decision-task.ts";
import { type ActivityPayload, activityTaskKind, type ClaimedActivity } from "./activity-task.ts";

/** The init shape of a response message, as operations return it. */
export type Res<S extends DescMessage> = MessageInitShape<S>;

/** Default and largest page size of SWF list and history calls. */
const maxPage = 1000;

/** Documented SWF quotas. */
export const limits = { domains: 100, typesPerDomain: 10_000, openActivities: 1000, openTimers: 1000, historyEvents: 25_000, pollersPerTaskList: 1000 };

/**
 * Queue-name prefixes of the two SWF task kinds. A queue is `<prefix><domain>/<taskList>`: the
 * key is unambiguous because SWF's naming rule forbids `/` in domain and task-list names
 * (enforced in model/validate.ts). Requeues are routed to a kind by its prefix.
 */
export const queuePrefix = { activity: "swf/a/", decision: "swf/d/" };

/** Queue names in the shared tasks table. */
export const queueName = {
  activity: (domain: string, taskList: string) => `${queuePrefix.activity}${domain}/${taskList}`,
  decision: (domain: string, taskList: string) => `${queuePrefix.decision}${domain}/${taskList}`,
};

/** A list call's page size: its maximumPageSize, or the largest when 0 or absent. */
export function pageSize(n: number | undefined): number {
  return n === undefined || n === 0 ? maxPage : n;
}

/** The SWF engine's shared state, handed to every operation, rule and task kind. */
export class Swf {
  readonly core: Dispatch;
  readonly db: Database;
  readonly clock: Clock;
  readonly tasks: WorkerTasks;
  readonly pages: PageTokens;
  /**
   * Domains known to exist, for polls and streams: a domain is never deleted (only deprecated,
   * which polls ignore), so a name found once is remembered and later polls skip the lookup.
   */
  readonly domains = new Set<string>();
  /** Largest history of an open execution (AWS: 25,000 events); past it the execution is terminated. */
  readonly historyLimit: number;
  readonly activityTask: TaskKind<ExecutionTx, ActivityPayload, ClaimedActivity>;
  readonly decisionTask: TaskKind<ExecutionTx, DecisionPayload, ClaimedDecision>;
  /** The partition, region and account of the ARNs this server hands out (--region, --account-id). */
  readonly arnScope: ArnScope;
  /** Most polls and streams held at once on one task list (of each kind) on this node (--max-polls-per-task-list). */
  readonly maxPollsPerTaskList: number;

  constructor(core: Dispatch, historyLimit: number | undefined, scope: ArnScope = defaultScope, maxPollsPerTaskList: number = limits.pollersPerTaskList) {
    this.core = core;
    this.db = core.db;
    this.clock = core.clock;
    this.tasks = core.tasks;
    this.pages = new PageTokens(core.clock);
    this.historyLimit = historyLimit ?? limits.historyEvents;
    this.arnScope = scope;
    this.maxPollsPerTaskList = maxPollsPerTaskList;
    this.activityTask = activityTaskKind(this);
    this.decisionTask = decisionTaskKind(this);
  }

  /** One transaction through a unit of work: its outbox applies after commit. */
  tx<R>(fn: (uow: UnitOfWork) => Promise<R>): Promise<R> {
    return this.core.units.run(fn);
  }
}
