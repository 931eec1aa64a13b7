// The SWF engine: domains, types, executions, the decision/activity cycle, timeouts and history.
//
// Decision-task rules (as AWS):
// - At most one decision task is open per execution (scheduled, or started by one decider).
// - An event that needs a decision (execution started, activity closed or timed out, signal,
//   timer fired, decision failure, cancel request…) schedules a decision task when none is open;
//   when one is scheduled it will carry the event; when one is started the event is appended at
//   once and a new decision task is scheduled when the started one completes or times out.
// - A closing decision (Complete/Fail/Cancel/ContinueAsNew) answered while such events arrived
//   fails with cause UNHANDLED_DECISION and a new decision task is scheduled.
// Tasks live in the shared `tasks` table (dispatch core): activity tasks keyed by activityId,
// the decision task keyed 'decision'. Every timeout is a durable timer row.
import { fromBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import {
  ActivityTaskTimeoutType,
  ChildPolicy,
  CloseStatus,
  DecisionTaskTimeoutType,
  DecisionType,
  EventType,
  ExecutionStatus,
  HistoryEventSchema,
  RegistrationStatus,
  ScheduleActivityTaskFailedCause,
  StartTimerFailedCause,
  CancelTimerFailedCause,
  RequestCancelActivityTaskFailedCause,
  CompleteWorkflowExecutionFailedCause,
  WorkflowExecutionTimeoutType,
  WorkflowExecutionTerminatedCause,
  WorkflowExecutionCancelRequestedCause,
  ScheduleLambdaFunctionFailedCause,
  SignalExternalWorkflowExecutionFailedCause,
  RequestCancelExternalWorkflowExecutionFailedCause,
  StartChildWorkflowExecutionFailedCause,
  ContinueAsNewWorkflowExecutionFailedCause,
  type Decision,
} from "../../gen/taskgate/swf/v1/types_pb.ts";
import type * as pb from "../../gen/taskgate/swf/v1/service_pb.ts";
import { swf, validationError } from "../faults.ts";
import { TaskState, type Clock, type Dispatch, type PollOptions, type TaskKind, type TaskRow, type TaskTimeout, type TimerRow, type Timers, type UnitOfWork, type WorkerTasks } from "../dispatch/index.ts";
import type { Database, Sql } from "../store/db.ts";
import * as st from "../store/swf.ts";
import { ExecutionTx, type ExecutionState } from "./history.ts";
import { checkDuration, parseDuration, parsePriority, parseRetentionDays, priorityString } from "./values.ts";

type Res<S extends DescMessage> = MessageInitShape<S>;

/** Region and account used in ARNs. */
const arnPrefix = "arn:aws:swf:us-east-1:000000000000";
/** Default and largest page size of SWF list and history calls. */
const maxPage = 1000;
/** How long page tokens stay valid (AWS: 24 hours). */
const pageTokenMs = 24 * 3600 * 1000;
/** Tags a domain may carry. */
const maxTags = 50;
/** Documented SWF quotas. */
const limits = { domains: 100, typesPerDomain: 10_000, openActivities: 1000, openTimers: 1000, historyEvents: 25_000 };

const closeDecisions = new Set<DecisionType>([
  DecisionType.COMPLETE_WORKFLOW_EXECUTION,
  DecisionType.FAIL_WORKFLOW_EXECUTION,
  DecisionType.CANCEL_WORKFLOW_EXECUTION,
  DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
]);

/** The decision-attributes member each decision type requires, with its AWS name. */
const decisionAttr: Record<number, [keyof Decision, string, string]> = {
  [DecisionType.SCHEDULE_ACTIVITY_TASK]: ["scheduleActivityTaskDecisionAttributes", "ScheduleActivityTaskDecisionAttributes", "ScheduleActivityTask"],
  [DecisionType.REQUEST_CANCEL_ACTIVITY_TASK]: ["requestCancelActivityTaskDecisionAttributes", "RequestCancelActivityTaskDecisionAttributes", "RequestCancelActivityTask"],
  [DecisionType.COMPLETE_WORKFLOW_EXECUTION]: ["completeWorkflowExecutionDecisionAttributes", "", "CompleteWorkflowExecution"],
  [DecisionType.FAIL_WORKFLOW_EXECUTION]: ["failWorkflowExecutionDecisionAttributes", "", "FailWorkflowExecution"],
  [DecisionType.CANCEL_WORKFLOW_EXECUTION]: ["cancelWorkflowExecutionDecisionAttributes", "", "CancelWorkflowExecution"],
  [DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION]: ["continueAsNewWorkflowExecutionDecisionAttributes", "", "ContinueAsNewWorkflowExecution"],
  [DecisionType.RECORD_MARKER]: ["recordMarkerDecisionAttributes", "RecordMarkerDecisionAttributes", "RecordMarker"],
  [DecisionType.START_TIMER]: ["startTimerDecisionAttributes", "StartTimerDecisionAttributes", "StartTimer"],
  [DecisionType.CANCEL_TIMER]: ["cancelTimerDecisionAttributes", "CancelTimerDecisionAttributes", "CancelTimer"],
  [DecisionType.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION]: [
    "signalExternalWorkflowExecutionDecisionAttributes",
    "SignalExternalWorkflowExecutionDecisionAttributes",
    "SignalExternalWorkflowExecution",
  ],
  [DecisionType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION]: [
    "requestCancelExternalWorkflowExecutionDecisionAttributes",
    "RequestCancelExternalWorkflowExecutionDecisionAttributes",
    "RequestCancelExternalWorkflowExecution",
  ],
  [DecisionType.START_CHILD_WORKFLOW_EXECUTION]: [
    "startChildWorkflowExecutionDecisionAttributes",
    "StartChildWorkflowExecutionDecisionAttributes",
    "StartChildWorkflowExecution",
  ],
  [DecisionType.SCHEDULE_LAMBDA_FUNCTION]: ["scheduleLambdaFunctionDecisionAttributes", "ScheduleLambdaFunctionDecisionAttributes", "ScheduleLambdaFunction"],
};

/** Registered defaults of a workflow type (swf_types.config). */
interface WorkflowTypeConfig {
  defaultTaskStartToCloseTimeout?: string;
  defaultExecutionStartToCloseTimeout?: string;
  defaultTaskList?: string;
  defaultTaskPriority?: string;
  defaultChildPolicy?: string;
  defaultLambdaRole?: string;
}

/** Registered defaults of an activity type (swf_types.config). */
interface ActivityTypeConfig {
  defaultTaskStartToCloseTimeout?: string;
  defaultTaskHeartbeatTimeout?: string;
  defaultTaskList?: string;
  defaultTaskPriority?: string;
  defaultTaskScheduleToStartTimeout?: string;
  defaultTaskScheduleToCloseTimeout?: string;
}

/** What an activity task row carries (tasks.payload). */
interface ActivityPayload {
  activityId: string;
  typeName: string;
  typeVersion: string;
  workflowId: string;
  domain: string;
  input?: string;
  scheduledEventId: number;
  startedEventId?: number;
  scheduleToStartTimeout: string;
  scheduleToCloseTimeout: string;
  startToCloseTimeout: string;
  heartbeatTimeout: string;
  details?: string;
  cancelRequested?: boolean;
  latestCancelRequestedEventId?: number;
}

/** What a decision task row carries (tasks.payload). */
interface DecisionPayload {
  scheduledEventId: number;
  startedEventId?: number;
  domain: string;
  workflowId: string;
  typeName: string;
  typeVersion: string;
  /** Set while a RespondDecisionTaskCompleted task-list override with schedule-to-start is pending. */
  overrideTaskList?: boolean;
}

/** Timer kinds. */
const T = {
  activityScheduleToStart: "swf.activity.schedule-to-start",
  activityScheduleToClose: "swf.activity.schedule-to-close",
  activityStartToClose: "swf.activity.start-to-close",
  activityHeartbeat: "swf.activity.heartbeat",
  decisionStartToClose: "swf.decision.start-to-close",
  decisionScheduleToStart: "swf.decision.schedule-to-start",
  execution: "swf.execution.start-to-close",
  timer: "swf.timer",
  purge: "swf.retention",
} as const;

/** A started decision task as the poll and stream answers carry it. */
export interface ClaimedDecision {
  token: string;
  runId: string;
  workflowId: string;
  typeName: string;
  typeVersion: string;
  startedEventId: number;
  previousStartedEventId: number;
  domain: string;
  /** Last event id visible to this task (the DecisionTaskStarted event or later). */
  upTo: number;
}

/** A started activity task. */
export interface ClaimedActivity {
  token: string;
  runId: string;
  payload: ActivityPayload;
}

/**
 * Queue-name prefixes of the two SWF task kinds. A queue is `<prefix><domain>/<taskList>`: the
 * key is unambiguous because SWF's naming rule forbids `/` in domain and task-list names
 * (enforced in model/validate.ts). Requeues are routed to a kind by its prefix.
 */
const queuePrefix = { activity: "swf/a/", decision: "swf/d/" };

/** Queue names in the shared tasks table. */
export const queueName = {
  activity: (domain: string, taskList: string) => `${queuePrefix.activity}${domain}/${taskList}`,
  decision: (domain: string, taskList: string) => `${queuePrefix.decision}${domain}/${taskList}`,
};

const execTypeInfo = (x: ExecutionTx) => ({ name: x.row.typeName, version: x.row.typeVersion });
const execRef = (x: ExecutionTx) => ({ workflowId: x.row.workflowId, runId: x.row.runId });

/** The SWF engine of one node. */
export class SwfEngine {
  readonly #core: Dispatch;
  readonly #tasks: WorkerTasks;
  readonly #activityTask: TaskKind<ExecutionTx, ActivityPayload, ClaimedActivity>;
  readonly #decisionTask: TaskKind<ExecutionTx, DecisionPayload, ClaimedDecision>;
  readonly #db: Database;
  readonly #timers: Timers;
  readonly #clock: Clock;
  #secret: Buffer | undefined;
  readonly #domains = new Set<string>();

  /** Largest history of an open execution (AWS: 25,000 events); past it the execution is terminated. */
  readonly #historyLimit: number;

  constructor(deps: { core: Dispatch; historyLimit?: number }) {
    this.#historyLimit = deps.historyLimit ?? limits.historyEvents;
    this.#core = deps.core;
    this.#db = deps.core.db;
    this.#timers = deps.core.timers;
    this.#clock = deps.core.clock;
    this.#tasks = deps.core.tasks;
    this.#activityTask = this.#activityTaskKind();
    this.#decisionTask = this.#decisionTaskKind();
    this.#tasks.register(this.#activityTask);
    this.#tasks.register(this.#decisionTask);
    this.#timers.on(T.execution, (uow, t) => this.#executionTimeout(uow.sql, uow, t));
    this.#timers.on(T.timer, (uow, t) => this.#timerFired(uow.sql, uow, t));
    this.#timers.on(T.purge, (uow, t) => this.#purge(uow.sql, t));
  }

  /** Loads the page-token secret (created once per database). */
  async init(): Promise<void> {
    const hex = await this.#core.meta("page-token-secret", () => randomBytes(32).toString("hex"));
    this.#secret = Buffer.from(hex, "hex");
  }

  // ---------------------------------------------------------------------------------------------
  // Transactions and effects

  /** One transaction through a unit of work: its outbox applies after commit. */
  #tx<R>(fn: (sql: Sql, uow: UnitOfWork) => Promise<R>): Promise<R> {
    return this.#core.units.run((uow) => fn(uow.sql, uow));
  }

  // ---------------------------------------------------------------------------------------------
  // Domains and types

  async registerDomain(req: pb.RegisterDomainRequest): Promise<Res<typeof pb.RegisterDomainResponseSchema>> {
    parseRetentionDays(req.workflowExecutionRetentionPeriodInDays!, "workflowExecutionRetentionPeriodInDays");
    const tags = checkTags(req.tags, "tags");
    await this.#tx(async (sql) => {
      if ((await st.countDomains(sql)) >= limits.domains) throw swf.limitExceeded(`The maximum number of domains (${limits.domains}) is registered.`);
      const ok = await st.insertDomain(sql, {
        name: req.name!,
        status: "REGISTERED",
        description: req.description ?? null,
        retentionDays: req.workflowExecutionRetentionPeriodInDays!,
        createdMs: this.#clock.now(),
      });
      if (!ok) throw swf.domainAlreadyExists(req.name!);
      await st.putDomainTags(sql, req.name!, tags);
    });
    return {};
  }

  async tagResource(req: pb.TagResourceRequest): Promise<Res<typeof pb.TagResourceResponseSchema>> {
    const tags = checkTags(req.tags, "tags");
    await this.#tx(async (sql) => {
      const d = await this.#domainOfArn(sql, req.resourceArn!);
      const keys = new Set([...(await st.domainTags(sql, d.name)).map((t) => t.key), ...tags.map((t) => t.key)]);
      if (keys.size > maxTags) throw swf.tooManyTags(`A domain can have at most ${maxTags} tags; ${d.name} would have ${keys.size}.`);
      await st.putDomainTags(sql, d.name, tags);
    });
    return {};
  }

  async untagResource(req: pb.UntagResourceRequest): Promise<Res<typeof pb.UntagResourceResponseSchema>> {
    await this.#tx(async (sql) => {
      const d = await this.#domainOfArn(sql, req.resourceArn!);
      await st.removeDomainTags(sql, d.name, req.tagKeys);
    });
    return {};
  }

  async listTagsForResource(req: pb.ListTagsForResourceRequest): Promise<Res<typeof pb.ListTagsForResourceResponseSchema>> {
    const tags = await this.#db.tx(async (sql) => st.domainTags(sql, (await this.#domainOfArn(sql, req.resourceArn!)).name));
    return { tags };
  }

  /** The domain an ARN names (`arn:aws:swf:<region>:<account>:/domain/<name>`, as DescribeDomain returns it). */
  async #domainOfArn(sql: Sql, arn: string): Promise<st.DomainRow> {
    const m = /^arn:aws[a-z-]*:swf:[^:]*:[^:]*:\/domain\/(.+)$/.exec(arn);
    if (!m) throw swf.unknownResource(`Unknown resource: ${arn} is not the ARN of an SWF domain (arn:aws:swf:<region>:<account>:/domain/<name>)`);
    return this.#knownDomain(sql, m[1]);
  }

  async describeDomain(req: pb.DescribeDomainRequest): Promise<Res<typeof pb.DescribeDomainResponseSchema>> {
    const d = await this.#db.tx((sql) => st.getDomain(sql, req.name!));
    if (!d) throw swf.unknownResource(`Unknown domain: ${req.name}`);
    return {
      domainInfo: domainInfo(d),
      configuration: { workflowExecutionRetentionPeriodInDays: d.retentionDays },
    };
  }

  async listDomains(req: pb.ListDomainsRequest): Promise<Res<typeof pb.ListDomainsResponseSchema>> {
    const status = registrationStatusName(req.registrationStatus);
    const limit = pageSize(req.maximumPageSize);
    const cursor = req.nextPageToken ? this.#readToken<{ k: "ld"; a: string }>(req.nextPageToken, "ld") : undefined;
    const rows = await this.#db.tx((sql) => st.listDomains(sql, status, cursor?.a, req.reverseOrder ?? false, limit + 1));
    const page = rows.slice(0, limit);
    return {
      domainInfos: page.map(domainInfo),
      nextPageToken: rows.length > limit ? this.#token({ k: "ld", a: page[page.length - 1].name }) : undefined,
    };
  }

  async registerWorkflowType(req: pb.RegisterWorkflowTypeRequest): Promise<Res<typeof pb.RegisterWorkflowTypeResponseSchema>> {
    checkDuration(req.defaultTaskStartToCloseTimeout, "defaultTaskStartToCloseTimeout");
    checkDuration(req.defaultExecutionStartToCloseTimeout, "defaultExecutionStartToCloseTimeout", false);
    const config: WorkflowTypeConfig = {
      defaultTaskStartToCloseTimeout: req.defaultTaskStartToCloseTimeout,
      defaultExecutionStartToCloseTimeout: req.defaultExecutionStartToCloseTimeout,
      defaultTaskList: req.defaultTaskList?.name,
      defaultTaskPriority: priorityString(req.defaultTaskPriority, "defaultTaskPriority"),
      defaultChildPolicy: req.defaultChildPolicy ? childPolicyName(req.defaultChildPolicy) : undefined,
      defaultLambdaRole: req.defaultLambdaRole,
    };
    await this.#registerType(req.domain!, "workflow", req.name!, req.version!, req.description, config);
    return {};
  }

  async registerActivityType(req: pb.RegisterActivityTypeRequest): Promise<Res<typeof pb.RegisterActivityTypeResponseSchema>> {
    checkDuration(req.defaultTaskStartToCloseTimeout, "defaultTaskStartToCloseTimeout");
    checkDuration(req.defaultTaskHeartbeatTimeout, "defaultTaskHeartbeatTimeout");
    checkDuration(req.defaultTaskScheduleToStartTimeout, "defaultTaskScheduleToStartTimeout");
    checkDuration(req.defaultTaskScheduleToCloseTimeout, "defaultTaskScheduleToCloseTimeout");
    const config: ActivityTypeConfig = {
      defaultTaskStartToCloseTimeout: req.defaultTaskStartToCloseTimeout,
      defaultTaskHeartbeatTimeout: req.defaultTaskHeartbeatTimeout,
      defaultTaskList: req.defaultTaskList?.name,
      defaultTaskPriority: priorityString(req.defaultTaskPriority, "defaultTaskPriority"),
      defaultTaskScheduleToStartTimeout: req.defaultTaskScheduleToStartTimeout,
      defaultTaskScheduleToCloseTimeout: req.defaultTaskScheduleToCloseTimeout,
    };
    await this.#registerType(req.domain!, "activity", req.name!, req.version!, req.description, config);
    return {};
  }

  async #registerType(domain: string, kind: "workflow" | "activity", name: string, version: string, description: string | undefined, config: object): Promise<void> {
    await this.#tx(async (sql) => {
      await this.#registeredDomain(sql, domain);
      if ((await st.countTypes(sql, domain, kind)) >= limits.typesPerDomain)
        throw swf.limitExceeded(`The maximum number of ${kind} types (${limits.typesPerDomain}) is registered in domain ${domain}.`);
      const ok = await st.insertType(sql, {
        domain,
        kind,
        name,
        version,
        status: "REGISTERED",
        description: description ?? null,
        createdMs: this.#clock.now(),
        deprecatedMs: null,
        config: JSON.stringify(config),
      });
      if (!ok) throw swf.typeAlreadyExists(typeLabel(kind, name, version));
    });
  }

  async #registeredDomain(sql: Sql, name: string): Promise<st.DomainRow> {
    const d = await st.getDomain(sql, name);
    if (!d) throw swf.unknownResource(`Unknown domain: ${name}`);
    // A deprecated domain takes no new executions or types; AWS reports it as no longer available.
    if (d.status !== "REGISTERED") throw swf.unknownResource(`Domain is deprecated: ${name}`);
    return d;
  }

  /**
   * Whether a domain exists, for polls and streams: a domain is never deleted (only deprecated,
   * which polls ignore), so a name found once is remembered and later polls skip the lookup.
   */
  async #domainExists(name: string): Promise<void> {
    if (this.#domains.has(name)) return;
    await this.#db.tx((sql) => this.#knownDomain(sql, name));
    if (this.#domains.size > 10_000) this.#domains.clear();
    this.#domains.add(name);
  }

  async #knownDomain(sql: Sql, name: string): Promise<st.DomainRow> {
    const d = await st.getDomain(sql, name);
    if (!d) throw swf.unknownResource(`Unknown domain: ${name}`);
    return d;
  }

  async describeWorkflowType(req: pb.DescribeWorkflowTypeRequest): Promise<Res<typeof pb.DescribeWorkflowTypeResponseSchema>> {
    const t = await this.#db.tx(async (sql) => {
      await this.#knownDomain(sql, req.domain!);
      return st.getType(sql, req.domain!, "workflow", req.workflowType!.name!, req.workflowType!.version!);
    });
    if (!t) throw swf.unknownResource(`Unknown type: ${typeLabel("workflow", req.workflowType!.name!, req.workflowType!.version!)}`);
    const c = JSON.parse(t.config) as WorkflowTypeConfig;
    return {
      typeInfo: workflowTypeInfo(t),
      configuration: {
        defaultTaskStartToCloseTimeout: c.defaultTaskStartToCloseTimeout,
        defaultExecutionStartToCloseTimeout: c.defaultExecutionStartToCloseTimeout,
        defaultTaskList: c.defaultTaskList !== undefined ? { name: c.defaultTaskList } : undefined,
        defaultTaskPriority: c.defaultTaskPriority,
        defaultChildPolicy: c.defaultChildPolicy ? childPolicyValue(c.defaultChildPolicy) : undefined,
        defaultLambdaRole: c.defaultLambdaRole,
      },
    };
  }

  async describeActivityType(req: pb.DescribeActivityTypeRequest): Promise<Res<typeof pb.DescribeActivityTypeResponseSchema>> {
    const t = await this.#db.tx(async (sql) => {
      await this.#knownDomain(sql, req.domain!);
      return st.getType(sql, req.domain!, "activity", req.activityType!.name!, req.activityType!.version!);
    });
    if (!t) throw swf.unknownResource(`Unknown type: ${typeLabel("activity", req.activityType!.name!, req.activityType!.version!)}`);
    const c = JSON.parse(t.config) as ActivityTypeConfig;
    return {
      typeInfo: activityTypeInfo(t),
      configuration: {
        defaultTaskStartToCloseTimeout: c.defaultTaskStartToCloseTimeout,
        defaultTaskHeartbeatTimeout: c.defaultTaskHeartbeatTimeout,
        defaultTaskList: c.defaultTaskList !== undefined ? { name: c.defaultTaskList } : undefined,
        defaultTaskPriority: c.defaultTaskPriority,
        defaultTaskScheduleToStartTimeout: c.defaultTaskScheduleToStartTimeout,
        defaultTaskScheduleToCloseTimeout: c.defaultTaskScheduleToCloseTimeout,
      },
    };
  }

  async listWorkflowTypes(req: pb.ListWorkflowTypesRequest): Promise<Res<typeof pb.ListWorkflowTypesResponseSchema>> {
    const { rows, next } = await this.#listTypes("workflow", req.domain!, req.name, req.registrationStatus, req.maximumPageSize, req.nextPageToken, req.reverseOrder);
    return { typeInfos: rows.map(workflowTypeInfo), nextPageToken: next };
  }

  async listActivityTypes(req: pb.ListActivityTypesRequest): Promise<Res<typeof pb.ListActivityTypesResponseSchema>> {
    const { rows, next } = await this.#listTypes("activity", req.domain!, req.name, req.registrationStatus, req.maximumPageSize, req.nextPageToken, req.reverseOrder);
    return { typeInfos: rows.map(activityTypeInfo), nextPageToken: next };
  }

  async #listTypes(
    kind: "workflow" | "activity",
    domain: string,
    name: string | undefined,
    status: RegistrationStatus,
    maximumPageSize: number | undefined,
    token: string | undefined,
    reverse: boolean | undefined,
  ): Promise<{ rows: st.TypeRow[]; next: string | undefined }> {
    const limit = pageSize(maximumPageSize);
    const k = kind === "workflow" ? "lw" : "la";
    const cursor = token ? this.#readToken<{ k: string; a: [string, string] }>(token, k) : undefined;
    const rows = await this.#db.tx(async (sql) => {
      await this.#knownDomain(sql, domain);
      return st.listTypes(sql, { domain, kind, status: registrationStatusName(status), name, after: cursor?.a, reverse: reverse ?? false, limit: limit + 1 });
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { rows: page, next: rows.length > limit ? this.#token({ k, a: [last.name, last.version] }) : undefined };
  }

  async deprecateDomain(req: pb.DeprecateDomainRequest): Promise<Res<typeof pb.DeprecateDomainResponseSchema>> {
    await this.#tx(async (sql) => {
      const d = await this.#knownDomain(sql, req.name!);
      if (d.status !== "REGISTERED") throw swf.domainDeprecated(`Domain is already deprecated: ${d.name}`);
      await st.setDomainStatus(sql, d.name, "DEPRECATED");
    });
    return {};
  }

  async undeprecateDomain(req: pb.UndeprecateDomainRequest): Promise<Res<typeof pb.UndeprecateDomainResponseSchema>> {
    await this.#tx(async (sql) => {
      const d = await this.#knownDomain(sql, req.name!);
      if (d.status === "REGISTERED") throw swf.domainAlreadyExists(d.name);
      await st.setDomainStatus(sql, d.name, "REGISTERED");
    });
    return {};
  }

  async deprecateWorkflowType(req: pb.DeprecateWorkflowTypeRequest): Promise<Res<typeof pb.DeprecateWorkflowTypeResponseSchema>> {
    await this.#setTypeStatus(req.domain!, "workflow", req.workflowType!.name!, req.workflowType!.version!, "deprecate");
    return {};
  }

  async undeprecateWorkflowType(req: pb.UndeprecateWorkflowTypeRequest): Promise<Res<typeof pb.UndeprecateWorkflowTypeResponseSchema>> {
    await this.#setTypeStatus(req.domain!, "workflow", req.workflowType!.name!, req.workflowType!.version!, "undeprecate");
    return {};
  }

  async deleteWorkflowType(req: pb.DeleteWorkflowTypeRequest): Promise<Res<typeof pb.DeleteWorkflowTypeResponseSchema>> {
    await this.#setTypeStatus(req.domain!, "workflow", req.workflowType!.name!, req.workflowType!.version!, "delete");
    return {};
  }

  async deprecateActivityType(req: pb.DeprecateActivityTypeRequest): Promise<Res<typeof pb.DeprecateActivityTypeResponseSchema>> {
    await this.#setTypeStatus(req.domain!, "activity", req.activityType!.name!, req.activityType!.version!, "deprecate");
    return {};
  }

  async undeprecateActivityType(req: pb.UndeprecateActivityTypeRequest): Promise<Res<typeof pb.UndeprecateActivityTypeResponseSchema>> {
    await this.#setTypeStatus(req.domain!, "activity", req.activityType!.name!, req.activityType!.version!, "undeprecate");
    return {};
  }

  async deleteActivityType(req: pb.DeleteActivityTypeRequest): Promise<Res<typeof pb.DeleteActivityTypeResponseSchema>> {
    await this.#setTypeStatus(req.domain!, "activity", req.activityType!.name!, req.activityType!.version!, "delete");
    return {};
  }

  /** Deprecates, undeprecates or deletes a type, with AWS's faults for each wrong starting state. */
  async #setTypeStatus(domain: string, kind: "workflow" | "activity", name: string, version: string, action: "deprecate" | "undeprecate" | "delete"): Promise<void> {
    await this.#tx(async (sql) => {
      await this.#knownDomain(sql, domain);
      const t = await st.getType(sql, domain, kind, name, version);
      if (!t) throw swf.unknownResource(`Unknown type: ${typeLabel(kind, name, version)}`);
      const registered = t.status === "REGISTERED";
      if (action === "deprecate") {
        if (!registered) throw swf.typeDeprecated(`Type is already deprecated: ${typeLabel(kind, name, version)}`);
        await st.setTypeStatus(sql, t, "DEPRECATED", this.#clock.now());
      } else if (action === "undeprecate") {
        if (registered) throw swf.typeAlreadyExists(typeLabel(kind, name, version));
        await st.setTypeStatus(sql, t, "REGISTERED", null);
      } else {
        if (registered) throw swf.typeNotDeprecated(`The type is currently registered and cannot be deleted in its current state; deprecate it first: ${typeLabel(kind, name, version)}`);
        await st.deleteType(sql, t);
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Visibility

  async listOpenWorkflowExecutions(req: pb.ListOpenWorkflowExecutionsRequest): Promise<Res<typeof pb.ListOpenWorkflowExecutionsResponseSchema>> {
    return this.#listExecutions(true, req, req.nextPageToken, req.maximumPageSize, req.reverseOrder);
  }

  async listClosedWorkflowExecutions(req: pb.ListClosedWorkflowExecutionsRequest): Promise<Res<typeof pb.ListClosedWorkflowExecutionsResponseSchema>> {
    return this.#listExecutions(false, req, req.nextPageToken, req.maximumPageSize, req.reverseOrder);
  }

  async countOpenWorkflowExecutions(req: pb.CountOpenWorkflowExecutionsRequest): Promise<Res<typeof pb.CountOpenWorkflowExecutionsResponseSchema>> {
    return this.#countExecutions(true, req);
  }

  async countClosedWorkflowExecutions(req: pb.CountClosedWorkflowExecutionsRequest): Promise<Res<typeof pb.CountClosedWorkflowExecutionsResponseSchema>> {
    return this.#countExecutions(false, req);
  }

  async #listExecutions(open: boolean, f: VisibilityFilters, token: string | undefined, maximumPageSize: number | undefined, reverse: boolean | undefined) {
    const q = visibilityQuery(open, f);
    const limit = pageSize(maximumPageSize);
    const cursor = token ? this.#readToken<{ k: string; a: [number, string] }>(token, open ? "lo" : "lc") : undefined;
    const rows = await this.#db.tx(async (sql) => {
      await this.#knownDomain(sql, q.domain);
      return st.listExecutions(sql, { ...q, reverse: reverse ?? false, after: cursor?.a, limit: limit + 1 });
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const now = this.#clock.now();
    return {
      executionInfos: page.map((r) => executionInfo(new ExecutionTx(r, now))),
      nextPageToken: rows.length > limit ? this.#token({ k: open ? "lo" : "lc", a: [q.by === "start" ? last.startMs : last.closeMs!, last.runId] }) : undefined,
    };
  }

  async #countExecutions(open: boolean, f: VisibilityFilters) {
    const q = visibilityQuery(open, f);
    const cap = 10_000;
    const n = await this.#db.tx(async (sql) => {
      await this.#knownDomain(sql, q.domain);
      return st.countExecutions(sql, q, cap + 1);
    });
    return { count: Math.min(n, cap), truncated: n > cap };
  }

  // ---------------------------------------------------------------------------------------------
  // Executions

  async startWorkflowExecution(req: pb.StartWorkflowExecutionRequest): Promise<Res<typeof pb.StartWorkflowExecutionResponseSchema>> {
    checkDuration(req.executionStartToCloseTimeout, "executionStartToCloseTimeout", false);
    checkDuration(req.taskStartToCloseTimeout, "taskStartToCloseTimeout");
    const priority = priorityString(req.taskPriority, "taskPriority");
    const runId = await this.#tx(async (sql, uow) => {
      const d = await this.#registeredDomain(sql, req.domain!);
      const t = await st.getType(sql, d.name, "workflow", req.workflowType!.name!, req.workflowType!.version!);
      if (!t) throw swf.unknownResource(`Unknown type: ${typeLabel("workflow", req.workflowType!.name!, req.workflowType!.version!)}`);
      if (t.status !== "REGISTERED") throw swf.typeDeprecated(`Type is deprecated: ${typeLabel("workflow", t.name, t.version)}`);
      const c = JSON.parse(t.config) as WorkflowTypeConfig;
      const cfg = {
        taskList: req.taskList?.name ?? c.defaultTaskList,
        executionStartToCloseTimeout: req.executionStartToCloseTimeout ?? c.defaultExecutionStartToCloseTimeout,
        taskStartToCloseTimeout: req.taskStartToCloseTimeout ?? c.defaultTaskStartToCloseTimeout,
        childPolicy: req.childPolicy ? childPolicyName(req.childPolicy) : c.defaultChildPolicy,
        taskPriority: priority ?? c.defaultTaskPriority ?? "0",
        lambdaRole: req.lambdaRole ?? c.defaultLambdaRole,
      };
      if (cfg.taskList === undefined) throw swf.defaultUndefined("No task list was given and the workflow type has no defaultTaskList.");
      if (cfg.executionStartToCloseTimeout === undefined)
        throw swf.defaultUndefined("No executionStartToCloseTimeout was given and the workflow type has no defaultExecutionStartToCloseTimeout.");
      if (cfg.taskStartToCloseTimeout === undefined)
        throw swf.defaultUndefined("No taskStartToCloseTimeout was given and the workflow type has no defaultTaskStartToCloseTimeout.");
      if (cfg.childPolicy === undefined) throw swf.defaultUndefined("No childPolicy was given and the workflow type has no defaultChildPolicy.");
      const x = await this.#createExecution(sql, uow, {
        domain: d.name,
        workflowId: req.workflowId!,
        typeName: t.name,
        typeVersion: t.version,
        input: req.input,
        tagList: req.tagList,
        ...cfg,
        taskList: cfg.taskList,
        executionStartToCloseTimeout: cfg.executionStartToCloseTimeout,
        taskStartToCloseTimeout: cfg.taskStartToCloseTimeout,
        childPolicy: cfg.childPolicy,
      });
      if (!x) throw swf.workflowExecutionAlreadyStarted(`Workflow execution already started: workflowId=${req.workflowId}`);
      await x.flush(sql, this.#db.caps);
      return x.row.runId;
    });
    return { runId };
  }

  /** Creates an open execution with its first events; undefined if the workflowId is already open. */
  async #createExecution(
    sql: Sql,
    uow: UnitOfWork,
    c: {
      domain: string;
      workflowId: string;
      typeName: string;
      typeVersion: string;
      input?: string;
      tagList: string[];
      taskList: string;
      executionStartToCloseTimeout: string;
      taskStartToCloseTimeout: string;
      childPolicy: string;
      taskPriority: string;
      lambdaRole?: string;
      parent?: ExecutionState["parent"];
      continuedExecutionRunId?: string;
    },
  ): Promise<ExecutionTx | undefined> {
    const now = this.#clock.now();
    const runId = randomUUID().replaceAll("-", "") + randomBytes(6).toString("hex");
    const state: ExecutionState = {
      taskList: c.taskList,
      originalTaskList: c.taskList,
      taskPriority: c.taskPriority,
      executionStartToCloseTimeout: c.executionStartToCloseTimeout,
      taskStartToCloseTimeout: c.taskStartToCloseTimeout,
      childPolicy: c.childPolicy,
      lambdaRole: c.lambdaRole,
      tagList: c.tagList,
      openActivityTasks: 0,
      openTimers: 0,
      openChildWorkflowExecutions: 0,
      openLambdaFunctions: 0,
      previousStartedEventId: 0,
      decisionNeeded: false,
      cancelRequested: false,
      timers: {},
      parent: c.parent,
      continuedExecutionRunId: c.continuedExecutionRunId,
    };
    const row: st.ExecutionRow = {
      runId,
      domain: c.domain,
      workflowId: c.workflowId,
      typeName: c.typeName,
      typeVersion: c.typeVersion,
      status: "OPEN",
      closeStatus: null,
      startMs: now,
      closeMs: null,
      nextEventId: 1,
      state: JSON.stringify(state),
    };
    if (!(await st.insertExecution(sql, row, c.parent?.runId))) return undefined;
    if (c.tagList.length > 0) await st.insertTags(sql, runId, c.tagList);
    const x = new ExecutionTx(row, now);
    x.append({
      eventType: EventType.WORKFLOW_EXECUTION_STARTED,
      workflowExecutionStartedEventAttributes: {
        input: c.input,
        executionStartToCloseTimeout: c.executionStartToCloseTimeout,
        taskStartToCloseTimeout: c.taskStartToCloseTimeout,
        childPolicy: childPolicyValue(c.childPolicy),
        taskList: { name: c.taskList },
        taskPriority: c.taskPriority,
        workflowType: { name: c.typeName, version: c.typeVersion },
        tagList: c.tagList,
        lambdaRole: c.lambdaRole,
        parentInitiatedEventId: BigInt(c.parent?.initiatedEventId ?? 0),
        parentWorkflowExecution: c.parent ? { workflowId: c.parent.workflowId, runId: c.parent.runId } : undefined,
        continuedExecutionRunId: c.continuedExecutionRunId,
      },
    });
    const execSeconds = parseDuration(c.executionStartToCloseTimeout, "executionStartToCloseTimeout", false)!;
    await uow.addTimer(T.execution, runId, "execution", now + execSeconds * 1000);
    await this.#scheduleDecision(sql, uow, x);
    return x;
  }

  async describeWorkflowExecution(req: pb.DescribeWorkflowExecutionRequest): Promise<Res<typeof pb.DescribeWorkflowExecutionResponseSchema>> {
    return this.#db.tx(async (sql) => {
      const x = await this.#execution(sql, req.domain!, req.execution!.workflowId!, req.execution!.runId!);
      const s = x.state;
      return {
        executionInfo: executionInfo(x),
        executionConfiguration: {
          taskStartToCloseTimeout: s.taskStartToCloseTimeout,
          executionStartToCloseTimeout: s.executionStartToCloseTimeout,
          taskList: { name: s.taskList },
          taskPriority: s.taskPriority,
          childPolicy: childPolicyValue(s.childPolicy),
          lambdaRole: s.lambdaRole,
        },
        openCounts: {
          openActivityTasks: s.openActivityTasks,
          openDecisionTasks: s.decision ? 1 : 0,
          openTimers: s.openTimers,
          openChildWorkflowExecutions: s.openChildWorkflowExecutions,
          openLambdaFunctions: s.openLambdaFunctions,
        },
        latestActivityTaskTimestamp: s.latestActivityTaskMs !== undefined ? timestampFromMs(s.latestActivityTaskMs) : undefined,
        latestExecutionContext: s.latestExecutionContext,
      };
    });
  }

  /** An execution by (domain, workflowId, runId), or UnknownResourceFault as AWS words it. */
  async #execution(sql: Sql, domain: string, workflowId: string, runId: string): Promise<ExecutionTx> {
    await this.#knownDomain(sql, domain);
    const row = await st.getExecution(sql, this.#db.caps, runId);
    if (!row || row.domain !== domain || row.workflowId !== workflowId)
      throw swf.unknownResource(`Unknown execution: WorkflowExecution=[workflowId=${workflowId}, runId=${runId}]`);
    return new ExecutionTx(row, this.#clock.now());
  }

  /** The open execution of a workflowId (runId optional), for signal, cancel and terminate. */
  async #openExecution(sql: Sql, domain: string, workflowId: string, runId: string | undefined): Promise<ExecutionTx> {
    await this.#knownDomain(sql, domain);
    const row = runId ? await st.getExecution(sql, this.#db.caps, runId) : await st.findExecution(sql, this.#db.caps, domain, workflowId);
    if (!row || row.domain !== domain || row.workflowId !== workflowId || row.status !== "OPEN")
      throw swf.unknownResource(`Unknown execution: WorkflowExecution=[workflowId=${workflowId}, runId=${runId ?? ""}]`);
    return new ExecutionTx(row, this.#clock.now());
  }

  async getWorkflowExecutionHistory(req: pb.GetWorkflowExecutionHistoryRequest): Promise<Res<typeof pb.GetWorkflowExecutionHistoryResponseSchema>> {
    const limit = pageSize(req.maximumPageSize);
    const reverse = req.reverseOrder ?? false;
    const cursor = req.nextPageToken ? this.#readToken<{ k: "h"; r: string; c: number }>(req.nextPageToken, "h") : undefined;
    if (cursor && cursor.r !== req.execution!.runId) throw validationError("The nextPageToken belongs to another workflow execution.");
    return this.#db.tx(async (sql) => {
      const x = await this.#execution(sql, req.domain!, req.execution!.workflowId!, req.execution!.runId!);
      const last = x.row.nextEventId - 1;
      const from = reverse ? 1 : (cursor?.c ?? 1);
      const to = reverse ? (cursor?.c ?? last) : last;
      const data = await st.readEvents(sql, x.row.runId, from, to, reverse, limit + 1);
      const events = data.slice(0, limit).map((d) => fromBinary(HistoryEventSchema, d));
      let next: string | undefined;
      if (data.length > limit) {
        const lastId = Number(events[events.length - 1].eventId);
        next = this.#token({ k: "h", r: x.row.runId, c: reverse ? lastId - 1 : lastId + 1 });
      }
      return { events, nextPageToken: next };
    });
  }

  async signalWorkflowExecution(req: pb.SignalWorkflowExecutionRequest): Promise<Res<typeof pb.SignalWorkflowExecutionResponseSchema>> {
    await this.#tx(async (sql, uow) => {
      const x = await this.#openExecution(sql, req.domain!, req.workflowId!, req.runId);
      x.append({ eventType: EventType.WORKFLOW_EXECUTION_SIGNALED, workflowExecutionSignaledEventAttributes: { signalName: req.signalName, input: req.input } });
      await this.#scheduleDecision(sql, uow, x);
      await x.flush(sql, this.#db.caps);
    });
    return {};
  }

  async requestCancelWorkflowExecution(req: pb.RequestCancelWorkflowExecutionRequest): Promise<Res<typeof pb.RequestCancelWorkflowExecutionResponseSchema>> {
    await this.#tx(async (sql, uow) => {
      const x = await this.#openExecution(sql, req.domain!, req.workflowId!, req.runId);
      if (!x.state.cancelRequested) {
        x.state.cancelRequested = true;
        x.append({ eventType: EventType.WORKFLOW_EXECUTION_CANCEL_REQUESTED, workflowExecutionCancelRequestedEventAttributes: {} });
        await this.#scheduleDecision(sql, uow, x);
      }
      await x.flush(sql, this.#db.caps);
    });
    return {};
  }

  async terminateWorkflowExecution(req: pb.TerminateWorkflowExecutionRequest): Promise<Res<typeof pb.TerminateWorkflowExecutionResponseSchema>> {
    await this.#tx(async (sql, uow) => {
      const x = await this.#openExecution(sql, req.domain!, req.workflowId!, req.runId);
      const childPolicy = req.childPolicy ? childPolicyName(req.childPolicy) : x.state.childPolicy;
      x.append({
        eventType: EventType.WORKFLOW_EXECUTION_TERMINATED,
        workflowExecutionTerminatedEventAttributes: {
          reason: req.reason,
          details: req.details,
          childPolicy: childPolicyValue(childPolicy),
          // No cause: the model sets one only when SWF itself terminated the execution.
        },
      });
      await this.#close(sql, uow, x, "TERMINATED");
      await x.flush(sql, this.#db.caps);
      await this.#applyChildPolicy(sql, uow, x.row.runId, childPolicy, x.nowMs);
    });
    return {};
  }

  /**
   * A parent that was terminated or timed out applies its child policy to its open children:
   * TERMINATE closes them (each applying its own policy in turn), REQUEST_CANCEL records a cancel
   * request in each, ABANDON leaves them running.
   */
  async #applyChildPolicy(sql: Sql, uow: UnitOfWork, parentRunId: string, policy: string, nowMs: number): Promise<void> {
    if (policy === "ABANDON") return;
    for (const runId of await st.openChildren(sql, parentRunId)) {
      const row = await st.getExecution(sql, this.#db.caps, runId);
      if (!row || row.status !== "OPEN") continue;
      const child = new ExecutionTx(row, nowMs);
      if (policy === "TERMINATE") {
        child.append({
          eventType: EventType.WORKFLOW_EXECUTION_TERMINATED,
          workflowExecutionTerminatedEventAttributes: {
            childPolicy: childPolicyValue(child.state.childPolicy),
            cause: WorkflowExecutionTerminatedCause.CHILD_POLICY_APPLIED,
          },
        });
        await this.#close(sql, uow, child, "TERMINATED");
        await child.flush(sql, this.#db.caps);
        await this.#applyChildPolicy(sql, uow, runId, child.state.childPolicy, nowMs);
      } else if (!child.state.cancelRequested) {
        child.state.cancelRequested = true;
        child.append({
          eventType: EventType.WORKFLOW_EXECUTION_CANCEL_REQUESTED,
          workflowExecutionCancelRequestedEventAttributes: { cause: WorkflowExecutionCancelRequestedCause.CHILD_POLICY_APPLIED },
        });
        await this.#scheduleDecision(sql, uow, child);
        await child.flush(sql, this.#db.caps);
      }
    }
  }

  async countPendingActivityTasks(req: pb.CountPendingActivityTasksRequest): Promise<Res<typeof pb.CountPendingActivityTasksResponseSchema>> {
    const n = await this.#db.tx(async (sql) => {
      await this.#knownDomain(sql, req.domain!);
      return this.#tasks.countScheduled(sql, queueName.activity(req.domain!, req.taskList!.name!));
    });
    return { count: n, truncated: false };
  }

  async countPendingDecisionTasks(req: pb.CountPendingDecisionTasksRequest): Promise<Res<typeof pb.CountPendingDecisionTasksResponseSchema>> {
    const n = await this.#db.tx(async (sql) => {
      await this.#knownDomain(sql, req.domain!);
      return this.#tasks.countScheduled(sql, queueName.decision(req.domain!, req.taskList!.name!));
    });
    return { count: n, truncated: false };
  }

  /** Closes an execution: status, close time, every task and timer dropped, retention purge armed. */
  async #close(sql: Sql, uow: UnitOfWork, x: ExecutionTx, closeStatus: string): Promise<void> {
    x.row.status = "CLOSED";
    x.row.closeStatus = closeStatus;
    x.row.closeMs = x.nowMs;
    x.state.decision = undefined;
    x.state.decisionNeeded = false;
    x.state.openActivityTasks = 0;
    x.state.openTimers = 0;
    x.state.timers = {};
    await this.#tasks.dropOwner(uow, x.row.runId);
    const d = await st.getDomain(sql, x.row.domain);
    const days = d ? parseRetentionDays(d.retentionDays, "workflowExecutionRetentionPeriodInDays") : 0;
    await uow.addTimer(T.purge, x.row.runId, "purge", x.nowMs + days * 86_400_000);
    if (x.state.parent) await this.#notifyParent(sql, uow, x, closeStatus);
  }

  /** Records the close of a child execution in its parent's history. */
  async #notifyParent(sql: Sql, uow: UnitOfWork, child: ExecutionTx, closeStatus: string): Promise<void> {
    const p = child.state.parent!;
    const prow = await st.getExecution(sql, this.#db.caps, p.runId);
    if (!prow || prow.status !== "OPEN") return;
    const parent = new ExecutionTx(prow, child.nowMs);
    const ref = { workflowExecution: execRef(child), workflowType: execTypeInfo(child), initiatedEventId: BigInt(p.initiatedEventId) };
    const started = BigInt(p.startedEventId);
    const closing = child.appended[child.appended.length - 1];
    switch (closeStatus) {
      case "COMPLETED":
        parent.append({
          eventType: EventType.CHILD_WORKFLOW_EXECUTION_COMPLETED,
          childWorkflowExecutionCompletedEventAttributes: { ...ref, startedEventId: started, result: closing?.workflowExecutionCompletedEventAttributes?.result },
        });
        break;
      case "FAILED":
        parent.append({
          eventType: EventType.CHILD_WORKFLOW_EXECUTION_FAILED,
          childWorkflowExecutionFailedEventAttributes: {
            ...ref,
            startedEventId: started,
            reason: closing?.workflowExecutionFailedEventAttributes?.reason,
            details: closing?.workflowExecutionFailedEventAttributes?.details,
          },
        });
        break;
      case "CANCELED":
        parent.append({
          eventType: EventType.CHILD_WORKFLOW_EXECUTION_CANCELED,
          childWorkflowExecutionCanceledEventAttributes: { ...ref, startedEventId: started, details: closing?.workflowExecutionCanceledEventAttributes?.details },
        });
        break;
      case "TERMINATED":
        parent.append({ eventType: EventType.CHILD_WORKFLOW_EXECUTION_TERMINATED, childWorkflowExecutionTerminatedEventAttributes: { ...ref, startedEventId: started } });
        break;
      case "TIMED_OUT":
        parent.append({
          eventType: EventType.CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
          childWorkflowExecutionTimedOutEventAttributes: { ...ref, startedEventId: started, timeoutType: WorkflowExecutionTimeoutType.START_TO_CLOSE },
        });
        break;
      default:
        return; // CONTINUED_AS_NEW: the child lives on under a new run
    }
    parent.state.openChildWorkflowExecutions = Math.max(0, parent.state.openChildWorkflowExecutions - 1);
    await this.#scheduleDecision(sql, uow, parent);
    await parent.flush(sql, this.#db.caps);
  }

  // ---------------------------------------------------------------------------------------------
  // Decision tasks

  /**
   * SWF's hard limit on history size: an execution whose history grew past it is terminated with
   * cause EVENT_LIMIT_EXCEEDED (and its child policy applied). Checked wherever a history grows
   * by more than one event (every path that may schedule a decision, and every decision batch),
   * so a history overshoots the limit by at most one batch. Returns whether it terminated.
   */
  async #enforceHistoryLimit(sql: Sql, uow: UnitOfWork, x: ExecutionTx): Promise<boolean> {
    if (!x.open || x.row.nextEventId <= this.#historyLimit) return false;
    x.append({
      eventType: EventType.WORKFLOW_EXECUTION_TERMINATED,
      workflowExecutionTerminatedEventAttributes: { childPolicy: childPolicyValue(x.state.childPolicy), cause: WorkflowExecutionTerminatedCause.EVENT_LIMIT_EXCEEDED },
    });
    await this.#close(sql, uow, x, "TERMINATED");
    await this.#applyChildPolicy(sql, uow, x.row.runId, x.state.childPolicy, x.nowMs);
    return true;
  }

  /** An event that needs a decision was appended: schedule a decision task unless one is open. */
  async #scheduleDecision(sql: Sql, uow: UnitOfWork, x: ExecutionTx, scheduleToStart?: number): Promise<void> {
    if (!x.open || (await this.#enforceHistoryLimit(sql, uow, x))) return;
    if (x.state.decision) {
      if (x.state.decision.startedEventId !== undefined) x.state.decisionNeeded = true;
      return;
    }
    const s = x.state;
    const scheduledEventId = x.append({
      eventType: EventType.DECISION_TASK_SCHEDULED,
      decisionTaskScheduledEventAttributes: {
        taskList: { name: s.taskList },
        taskPriority: s.taskPriority,
        startToCloseTimeout: s.taskStartToCloseTimeout,
        scheduleToStartTimeout: scheduleToStart !== undefined ? String(scheduleToStart) : undefined,
      },
    });
    s.decision = { scheduledEventId };
    const payload: DecisionPayload = {
      scheduledEventId,
      domain: x.row.domain,
      workflowId: x.row.workflowId,
      typeName: x.row.typeName,
      typeVersion: x.row.typeVersion,
      overrideTaskList: scheduleToStart !== undefined ? true : undefined,
    };
    await this.#tasks.schedule(uow, this.#decisionTask, x, {
      queue: queueName.decision(x.row.domain, s.taskList),
      priority: Number(s.taskPriority),
      ownerId: x.row.runId,
      key: "decision",
      payload,
      nowMs: x.nowMs,
      scheduleToStart,
    });
  }

  /**
   * The activity task as a worker-task kind: its start appends ActivityTaskStarted and arms the
   * start-to-close and heartbeat timeouts of its payload; a timeout appends ActivityTaskTimedOut
   * and needs a decision.
   */
  #activityTaskKind(): TaskKind<ExecutionTx, ActivityPayload, ClaimedActivity> {
    const timeoutType: Record<TaskTimeout, ActivityTaskTimeoutType> = {
      scheduleToStart: ActivityTaskTimeoutType.SCHEDULE_TO_START,
      scheduleToClose: ActivityTaskTimeoutType.SCHEDULE_TO_CLOSE,
      startToClose: ActivityTaskTimeoutType.START_TO_CLOSE,
      heartbeat: ActivityTaskTimeoutType.HEARTBEAT,
    };
    return {
      prefix: queuePrefix.activity,
      timerKinds: { scheduleToStart: T.activityScheduleToStart, scheduleToClose: T.activityScheduleToClose, startToClose: T.activityStartToClose, heartbeat: T.activityHeartbeat },
      open: (uow, runId) => this.#loadOpen(uow.sql, runId),
      live: (x) => x.open,
      flush: (uow, x) => x.flush(uow.sql, uow.caps),
      // The Started event will be the execution's next: recorded in the payload the mark writes.
      starting: (x, p) => void (p.startedEventId = x.row.nextEventId),
      started: (_uow, x, t, identity) => {
        const p = t.payload;
        x.append({ eventType: EventType.ACTIVITY_TASK_STARTED, activityTaskStartedEventAttributes: { identity, scheduledEventId: BigInt(p.scheduledEventId) } });
        return {
          claimed: { token: t.token, runId: x.row.runId, payload: p },
          startToClose: parseDuration(p.startToCloseTimeout, "startToCloseTimeout"),
          heartbeat: parseDuration(p.heartbeatTimeout, "heartbeatTimeout"),
          clearsScheduleToStart: p.scheduleToStartTimeout !== "NONE",
        };
      },
      requeued: async (uow, x, row, p) => {
        await this.#withdrawStarted(uow, x, p);
        // Schedule-to-start counts from the first scheduling, not from the return to the queue.
        const s2s = p.scheduleToStartTimeout !== undefined ? parseDuration(p.scheduleToStartTimeout, "scheduleToStartTimeout") : undefined;
        return { scheduleToStartAt: s2s !== undefined ? Math.max(row.scheduledMs + s2s * 1000, x.nowMs) : undefined };
      },
      timedOut: async (uow, x, _row, p, which) => {
        x.append({
          eventType: EventType.ACTIVITY_TASK_TIMED_OUT,
          activityTaskTimedOutEventAttributes: {
            timeoutType: timeoutType[which],
            scheduledEventId: BigInt(p.scheduledEventId),
            startedEventId: BigInt(p.startedEventId ?? 0),
            details: p.details,
          },
        });
        x.state.openActivityTasks = Math.max(0, x.state.openActivityTasks - 1);
        await this.#scheduleDecision(uow.sql, uow, x);
      },
    };
  }

  /**
   * The decision task as a worker-task kind: its start appends DecisionTaskStarted, marks the open
   * decision task started and arms the execution's task start-to-close timeout; a timeout
   * appends DecisionTaskTimedOut and schedules the next decision task.
   */
  #decisionTaskKind(): TaskKind<ExecutionTx, DecisionPayload, ClaimedDecision> {
    return {
      prefix: queuePrefix.decision,
      timerKinds: { scheduleToStart: T.decisionScheduleToStart, startToClose: T.decisionStartToClose },
      open: (uow, runId) => this.#loadOpen(uow.sql, runId),
      live: (x) => x.open,
      flush: (uow, x) => x.flush(uow.sql, uow.caps),
      starting: (x, p) => void (p.startedEventId = x.row.nextEventId),
      started: (_uow, x, t, identity) => {
        const p = t.payload;
        const startedEventId = x.append({
          eventType: EventType.DECISION_TASK_STARTED,
          decisionTaskStartedEventAttributes: { identity, scheduledEventId: BigInt(p.scheduledEventId) },
        });
        x.state.decision = { scheduledEventId: p.scheduledEventId, startedEventId };
        x.state.decisionNeeded = false;
        return {
          claimed: {
            token: t.token,
            runId: x.row.runId,
            workflowId: x.row.workflowId,
            typeName: x.row.typeName,
            typeVersion: x.row.typeVersion,
            startedEventId,
            previousStartedEventId: x.state.previousStartedEventId,
            domain: x.row.domain,
            upTo: startedEventId,
          },
          startToClose: parseDuration(x.state.taskStartToCloseTimeout, "taskStartToCloseTimeout"),
          // Only a task-list override (RespondDecisionTaskCompleted) arms a schedule-to-start timeout.
          clearsScheduleToStart: p.overrideTaskList === true,
        };
      },
      requeued: async (uow, x, _row, p) => {
        await this.#withdrawStarted(uow, x, p);
        x.state.decision = { scheduledEventId: p.scheduledEventId };
        x.state.decisionNeeded = false;
        return {};
      },
      timedOut: async (uow, x, _row, p, which) => {
        const type = which === "scheduleToStart" ? DecisionTaskTimeoutType.SCHEDULE_TO_START : DecisionTaskTimeoutType.START_TO_CLOSE;
        x.append({
          eventType: EventType.DECISION_TASK_TIMED_OUT,
          decisionTaskTimedOutEventAttributes: { timeoutType: type, scheduledEventId: BigInt(p.scheduledEventId), startedEventId: BigInt(p.startedEventId ?? 0) },
        });
        x.state.decision = undefined;
        x.state.decisionNeeded = false;
        // A temporary task-list override (taskListScheduleToStartTimeout) is reverted when its decision
        // task is not started in time, or started but not completed in time.
        if (type === DecisionTaskTimeoutType.SCHEDULE_TO_START || p.overrideTaskList) x.state.taskList = x.state.originalTaskList;
        await this.#scheduleDecision(uow.sql, uow, x);
      },
    };
  }

  /**
   * A started task goes back to its queue: its Started event is withdrawn when it is still the
   * newest event of the history; otherwise it stays as the record of the lost attempt and the next
   * claim appends a new one.
   */
  async #withdrawStarted(uow: UnitOfWork, x: ExecutionTx, p: { startedEventId?: number }): Promise<void> {
    if (p.startedEventId !== undefined && p.startedEventId === x.row.nextEventId - 1) {
      await st.deleteEvent(uow.sql, x.row.runId, p.startedEventId);
      x.row.nextEventId--;
    }
    p.startedEventId = undefined;
  }

  async #loadOpen(sql: Sql, runId: string): Promise<ExecutionTx | undefined> {
    const row = await st.getExecution(sql, this.#db.caps, runId);
    if (!row || row.status !== "OPEN") return undefined;
    return new ExecutionTx(row, this.#clock.now());
  }

  async pollForDecisionTask(req: pb.PollForDecisionTaskRequest, opts: PollOptions): Promise<Res<typeof pb.PollForDecisionTaskResponseSchema>> {
    const limit = pageSize(req.maximumPageSize);
    const reverse = req.reverseOrder ?? false;
    if (req.nextPageToken) {
      const t = this.#readToken<DecisionPageToken>(req.nextPageToken, "d");
      if (t.dm !== req.domain) throw validationError("The nextPageToken was issued for another domain.");
      const claimed: ClaimedDecision = { token: t.t, runId: t.r, workflowId: t.w, typeName: t.n, typeVersion: t.v, startedEventId: t.s, previousStartedEventId: t.p, domain: t.dm, upTo: t.u };
      return this.#decisionPage(claimed, limit, t.rev, t.c, t.lo);
    }
    await this.#domainExists(req.domain!);
    const queue = queueName.decision(req.domain!, req.taskList!.name!);
    return this.#tasks.poll(
      this.#decisionTask,
      queue,
      req.identity,
      opts,
      (claimed) => {
        const lo = req.startAtPreviousStartedEvent && claimed.previousStartedEventId > 0 ? claimed.previousStartedEventId : 1;
        return this.#decisionPage(claimed, limit, reverse, undefined, lo);
      },
      (): Res<typeof pb.PollForDecisionTaskResponseSchema> => ({ startedEventId: 0n, previousStartedEventId: 0n }),
    );
  }

  /** One page of a decision task's history, with the token of the next. */
  async #decisionPage(c: ClaimedDecision, limit: number, reverse: boolean, cursor: number | undefined, lo: number): Promise<Res<typeof pb.PollForDecisionTaskResponseSchema>> {
    const from = reverse ? lo : (cursor ?? lo);
    const to = reverse ? (cursor ?? c.upTo) : c.upTo;
    const data = await this.#db.tx((sql) => st.readEvents(sql, c.runId, from, to, reverse, limit + 1));
    const events = data.slice(0, limit).map((d) => fromBinary(HistoryEventSchema, d));
    let next: string | undefined;
    if (data.length > limit) {
      const lastId = Number(events[events.length - 1].eventId);
      const t: DecisionPageToken = {
        k: "d",
        t: c.token,
        r: c.runId,
        w: c.workflowId,
        n: c.typeName,
        v: c.typeVersion,
        s: c.startedEventId,
        p: c.previousStartedEventId,
        dm: c.domain,
        u: c.upTo,
        rev: reverse,
        c: reverse ? lastId - 1 : lastId + 1,
        lo,
      };
      next = this.#token(t);
    }
    return {
      taskToken: c.token,
      startedEventId: BigInt(c.startedEventId),
      previousStartedEventId: BigInt(c.previousStartedEventId),
      workflowExecution: { workflowId: c.workflowId, runId: c.runId },
      workflowType: { name: c.typeName, version: c.typeVersion },
      events,
      nextPageToken: next,
    };
  }

  /** Server-streamed decision tasks, each with its whole history. */
  async *streamDecisionTasks(req: pb.StreamDecisionTasksRequest, maxInFlight: number, signal: AbortSignal): AsyncGenerator<Res<typeof pb.StreamDecisionTasksResponseSchema>[]> {
    await this.#domainExists(req.domain!);
    const queue = queueName.decision(req.domain!, req.taskList!.name!);
    const answer = async (c: ClaimedDecision): Promise<Res<typeof pb.StreamDecisionTasksResponseSchema>> => {
      const data = await this.#db.tx((sql) => st.readEvents(sql, c.runId, 1, c.upTo, false, limits.historyEvents));
      return {
        taskToken: c.token,
        startedEventId: BigInt(c.startedEventId),
        previousStartedEventId: BigInt(c.previousStartedEventId),
        workflowExecution: { workflowId: c.workflowId, runId: c.runId },
        workflowType: { name: c.typeName, version: c.typeVersion },
        events: data.map((d) => fromBinary(HistoryEventSchema, d)),
      };
    };
    // Each task's history is read and sent on its own (one-task batches).
    yield* this.#tasks.stream(this.#decisionTask, queue, req.identity, maxInFlight, signal, answer, true);
  }

  async respondDecisionTaskCompleted(req: pb.RespondDecisionTaskCompletedRequest): Promise<Res<typeof pb.RespondDecisionTaskCompletedResponseSchema>> {
    checkDecisions(req.decisions);
    if (req.taskListScheduleToStartTimeout !== undefined) parseDuration(req.taskListScheduleToStartTimeout, "taskListScheduleToStartTimeout");
    await this.#tx(async (sql, uow) => {
      const found = await st.startedTaskWithExecution(sql, this.#db.caps, req.taskToken!);
      if (!found || found.task.key !== "decision") throw unknownToken();
      const row = found.task;
      const x = new ExecutionTx(found.execution, this.#clock.now());
      const p = JSON.parse(row.payload) as DecisionPayload;
      await this.#tasks.close(uow, row);
      const s = x.state;
      const completedId = x.append({
        eventType: EventType.DECISION_TASK_COMPLETED,
        decisionTaskCompletedEventAttributes: {
          scheduledEventId: BigInt(p.scheduledEventId),
          startedEventId: BigInt(p.startedEventId!),
          executionContext: req.executionContext,
          taskList: req.taskList ? { name: req.taskList.name } : undefined,
          taskListScheduleToStartTimeout: req.taskListScheduleToStartTimeout,
        },
      });
      s.previousStartedEventId = p.startedEventId!;
      s.decision = undefined;
      if (req.executionContext !== undefined) s.latestExecutionContext = req.executionContext;
      let needDecision = s.decisionNeeded;
      const unhandled = s.decisionNeeded;
      s.decisionNeeded = false;
      let override: number | undefined;
      if (req.taskList?.name) {
        s.taskList = req.taskList.name;
        override = req.taskListScheduleToStartTimeout !== undefined ? parseDuration(req.taskListScheduleToStartTimeout, "taskListScheduleToStartTimeout") : undefined;
        if (override === undefined) s.originalTaskList = req.taskList.name; // a permanent override
      }
      for (const d of req.decisions) {
        if (!x.open) break;
        if (await this.#applyDecision(sql, uow, x, d, completedId, unhandled)) needDecision = true;
      }
      if (x.open && needDecision) await this.#scheduleDecision(sql, uow, x, override);
      else await this.#enforceHistoryLimit(sql, uow, x);
      await x.flush(sql, this.#db.caps);
    });
    return {};
  }

  /** Applies one decision; returns true when it recorded an event that needs a new decision. */
  async #applyDecision(sql: Sql, uow: UnitOfWork, x: ExecutionTx, d: Decision, completedId: number, unhandled: boolean): Promise<boolean> {
    const dtc = BigInt(completedId);
    switch (d.decisionType) {
      case DecisionType.SCHEDULE_ACTIVITY_TASK:
        return this.#scheduleActivity(sql, uow, x, d.scheduleActivityTaskDecisionAttributes!, dtc);
      case DecisionType.REQUEST_CANCEL_ACTIVITY_TASK: {
        const a = d.requestCancelActivityTaskDecisionAttributes!;
        const row = await this.#tasks.byKey(uow, x.row.runId, `a:${a.activityId}`);
        if (!row) {
          x.append({
            eventType: EventType.REQUEST_CANCEL_ACTIVITY_TASK_FAILED,
            requestCancelActivityTaskFailedEventAttributes: { activityId: a.activityId, cause: RequestCancelActivityTaskFailedCause.ACTIVITY_ID_UNKNOWN, decisionTaskCompletedEventId: dtc },
          });
          return true;
        }
        const p = JSON.parse(row.payload) as ActivityPayload;
        const reqId = x.append({
          eventType: EventType.ACTIVITY_TASK_CANCEL_REQUESTED,
          activityTaskCancelRequestedEventAttributes: { activityId: a.activityId, decisionTaskCompletedEventId: dtc },
        });
        if (row.state === TaskState.scheduled) {
          x.append({
            eventType: EventType.ACTIVITY_TASK_CANCELED,
            activityTaskCanceledEventAttributes: { scheduledEventId: BigInt(p.scheduledEventId), startedEventId: 0n, latestCancelRequestedEventId: BigInt(reqId) },
          });
          await this.#tasks.close(uow, row);
          x.state.openActivityTasks--;
          return true;
        }
        p.cancelRequested = true;
        p.latestCancelRequestedEventId = reqId;
        await this.#tasks.updatePayload(uow, row, p);
        return false;
      }
      case DecisionType.COMPLETE_WORKFLOW_EXECUTION:
        if (unhandled) {
          x.append({
            eventType: EventType.COMPLETE_WORKFLOW_EXECUTION_FAILED,
            completeWorkflowExecutionFailedEventAttributes: { cause: CompleteWorkflowExecutionFailedCause.UNHANDLED_DECISION, decisionTaskCompletedEventId: dtc },
          });
          return true;
        }
        x.append({
          eventType: EventType.WORKFLOW_EXECUTION_COMPLETED,
          workflowExecutionCompletedEventAttributes: { result: d.completeWorkflowExecutionDecisionAttributes?.result, decisionTaskCompletedEventId: dtc },
        });
        await this.#close(sql, uow, x, "COMPLETED");
        return false;
      case DecisionType.FAIL_WORKFLOW_EXECUTION:
        if (unhandled) {
          x.append({
            eventType: EventType.FAIL_WORKFLOW_EXECUTION_FAILED,
            failWorkflowExecutionFailedEventAttributes: { cause: CompleteWorkflowExecutionFailedCause.UNHANDLED_DECISION, decisionTaskCompletedEventId: dtc },
          });
          return true;
        }
        x.append({
          eventType: EventType.WORKFLOW_EXECUTION_FAILED,
          workflowExecutionFailedEventAttributes: {
            reason: d.failWorkflowExecutionDecisionAttributes?.reason,
            details: d.failWorkflowExecutionDecisionAttributes?.details,
            decisionTaskCompletedEventId: dtc,
          },
        });
        await this.#close(sql, uow, x, "FAILED");
        return false;
      case DecisionType.CANCEL_WORKFLOW_EXECUTION:
        if (unhandled) {
          x.append({
            eventType: EventType.CANCEL_WORKFLOW_EXECUTION_FAILED,
            cancelWorkflowExecutionFailedEventAttributes: { cause: CompleteWorkflowExecutionFailedCause.UNHANDLED_DECISION, decisionTaskCompletedEventId: dtc },
          });
          return true;
        }
        x.append({
          eventType: EventType.WORKFLOW_EXECUTION_CANCELED,
          workflowExecutionCanceledEventAttributes: { details: d.cancelWorkflowExecutionDecisionAttributes?.details, decisionTaskCompletedEventId: dtc },
        });
        await this.#close(sql, uow, x, "CANCELED");
        return false;
      case DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
        return this.#continueAsNew(sql, uow, x, d, dtc, unhandled);
      case DecisionType.RECORD_MARKER: {
        const a = d.recordMarkerDecisionAttributes!;
        x.append({ eventType: EventType.MARKER_RECORDED, markerRecordedEventAttributes: { markerName: a.markerName, details: a.details, decisionTaskCompletedEventId: dtc } });
        return false;
      }
      case DecisionType.START_TIMER: {
        const a = d.startTimerDecisionAttributes!;
        const fail = (cause: StartTimerFailedCause) => {
          x.append({ eventType: EventType.START_TIMER_FAILED, startTimerFailedEventAttributes: { timerId: a.timerId, cause, decisionTaskCompletedEventId: dtc } });
          return true;
        };
        if (x.state.timers[a.timerId!]) return fail(StartTimerFailedCause.TIMER_ID_ALREADY_IN_USE);
        if (x.state.openTimers >= limits.openTimers) return fail(StartTimerFailedCause.OPEN_TIMERS_LIMIT_EXCEEDED);
        const id = x.append({
          eventType: EventType.TIMER_STARTED,
          timerStartedEventAttributes: { timerId: a.timerId, control: a.control, startToFireTimeout: a.startToFireTimeout, decisionTaskCompletedEventId: dtc },
        });
        x.state.timers[a.timerId!] = { startedEventId: id, control: a.control };
        x.state.openTimers++;
        const secs = parseDuration(a.startToFireTimeout!, "startToFireTimeout", false)!;
        await uow.addTimer(T.timer, x.row.runId, `timer:${a.timerId}`, x.nowMs + secs * 1000);
        return false;
      }
      case DecisionType.CANCEL_TIMER: {
        const a = d.cancelTimerDecisionAttributes!;
        const t = x.state.timers[a.timerId!];
        if (!t) {
          x.append({
            eventType: EventType.CANCEL_TIMER_FAILED,
            cancelTimerFailedEventAttributes: { timerId: a.timerId, cause: CancelTimerFailedCause.TIMER_ID_UNKNOWN, decisionTaskCompletedEventId: dtc },
          });
          return true;
        }
        delete x.state.timers[a.timerId!];
        x.state.openTimers--;
        await uow.deleteTimers(x.row.runId, `timer:${a.timerId}`);
        x.append({
          eventType: EventType.TIMER_CANCELED,
          timerCanceledEventAttributes: { timerId: a.timerId, startedEventId: BigInt(t.startedEventId), decisionTaskCompletedEventId: dtc },
        });
        return false;
      }
      case DecisionType.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:
        return this.#signalExternal(sql, uow, x, d, dtc);
      case DecisionType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION:
        return this.#cancelExternal(sql, uow, x, d, dtc);
      case DecisionType.START_CHILD_WORKFLOW_EXECUTION:
        return this.#startChild(sql, uow, x, d, dtc);
      case DecisionType.SCHEDULE_LAMBDA_FUNCTION: {
        const a = d.scheduleLambdaFunctionDecisionAttributes!;
        // taskgate runs no AWS Lambda functions: the decision fails as it does in a region without Lambda.
        x.append({
          eventType: EventType.SCHEDULE_LAMBDA_FUNCTION_FAILED,
          scheduleLambdaFunctionFailedEventAttributes: {
            id: a.id,
            name: a.name,
            cause: ScheduleLambdaFunctionFailedCause.LAMBDA_SERVICE_NOT_AVAILABLE_IN_REGION,
            decisionTaskCompletedEventId: dtc,
          },
        });
        return true;
      }
      default:
        return false;
    }
  }

  async #scheduleActivity(sql: Sql, uow: UnitOfWork, x: ExecutionTx, a: NonNullable<Decision["scheduleActivityTaskDecisionAttributes"]>, dtc: bigint): Promise<boolean> {
    const fail = (cause: ScheduleActivityTaskFailedCause) => {
      x.append({
        eventType: EventType.SCHEDULE_ACTIVITY_TASK_FAILED,
        scheduleActivityTaskFailedEventAttributes: { activityType: a.activityType, activityId: a.activityId, cause, decisionTaskCompletedEventId: dtc },
      });
      return true;
    };
    const [typeName, typeVersion] = [a.activityType!.name!, a.activityType!.version!];
    const t = await uow.memo(JSON.stringify(["type", x.row.domain, "activity", typeName, typeVersion]), () => st.getType(sql, x.row.domain, "activity", typeName, typeVersion));
    if (!t) return fail(ScheduleActivityTaskFailedCause.ACTIVITY_TYPE_DOES_NOT_EXIST);
    if (t.status !== "REGISTERED") return fail(ScheduleActivityTaskFailedCause.ACTIVITY_TYPE_DEPRECATED);
    if (x.state.openActivityTasks >= limits.openActivities) return fail(ScheduleActivityTaskFailedCause.OPEN_ACTIVITIES_LIMIT_EXCEEDED);
    const c = JSON.parse(t.config) as ActivityTypeConfig;
    const taskList = a.taskList?.name ?? c.defaultTaskList;
    if (taskList === undefined) return fail(ScheduleActivityTaskFailedCause.DEFAULT_TASK_LIST_UNDEFINED);
    const s2c = a.scheduleToCloseTimeout ?? c.defaultTaskScheduleToCloseTimeout;
    if (s2c === undefined) return fail(ScheduleActivityTaskFailedCause.DEFAULT_SCHEDULE_TO_CLOSE_TIMEOUT_UNDEFINED);
    const s2s = a.scheduleToStartTimeout ?? c.defaultTaskScheduleToStartTimeout;
    if (s2s === undefined) return fail(ScheduleActivityTaskFailedCause.DEFAULT_SCHEDULE_TO_START_TIMEOUT_UNDEFINED);
    const stc = a.startToCloseTimeout ?? c.defaultTaskStartToCloseTimeout;
    if (stc === undefined) return fail(ScheduleActivityTaskFailedCause.DEFAULT_START_TO_CLOSE_TIMEOUT_UNDEFINED);
    const hb = a.heartbeatTimeout ?? c.defaultTaskHeartbeatTimeout;
    if (hb === undefined) return fail(ScheduleActivityTaskFailedCause.DEFAULT_HEARTBEAT_TIMEOUT_UNDEFINED);
    const priority = a.taskPriority !== undefined ? String(parsePriority(a.taskPriority, "taskPriority")) : (c.defaultTaskPriority ?? "0");
    const scheduledEventId = x.row.nextEventId; // ActivityTaskScheduled, appended once the task row exists
    const payload: ActivityPayload = {
      activityId: a.activityId!,
      typeName: t.name,
      typeVersion: t.version,
      workflowId: x.row.workflowId,
      domain: x.row.domain,
      input: a.input,
      scheduledEventId,
      scheduleToStartTimeout: s2s,
      scheduleToCloseTimeout: s2c,
      startToCloseTimeout: stc,
      heartbeatTimeout: hb,
    };
    // The open activityId is unique per execution (the tasks (owner, key) index): the insert itself
    // is the check, so scheduling costs no lookup first.
    const id = await this.#tasks.schedule(uow, this.#activityTask, x, {
      queue: queueName.activity(x.row.domain, taskList),
      priority: Number(priority),
      ownerId: x.row.runId,
      key: `a:${a.activityId}`,
      payload,
      unique: true,
      nowMs: x.nowMs,
      scheduleToStart: parseDuration(s2s, "scheduleToStartTimeout"),
      scheduleToClose: parseDuration(s2c, "scheduleToCloseTimeout"),
    });
    if (id === undefined) return fail(ScheduleActivityTaskFailedCause.ACTIVITY_ID_ALREADY_IN_USE);
    x.append({
      eventType: EventType.ACTIVITY_TASK_SCHEDULED,
      activityTaskScheduledEventAttributes: {
        activityType: { name: t.name, version: t.version },
        activityId: a.activityId,
        input: a.input,
        control: a.control,
        scheduleToStartTimeout: s2s,
        scheduleToCloseTimeout: s2c,
        startToCloseTimeout: stc,
        heartbeatTimeout: hb,
        taskList: { name: taskList },
        taskPriority: priority,
        decisionTaskCompletedEventId: dtc,
      },
    });
    x.state.openActivityTasks++;
    x.state.latestActivityTaskMs = x.nowMs;
    return false;
  }

  async #continueAsNew(sql: Sql, uow: UnitOfWork, x: ExecutionTx, d: Decision, dtc: bigint, unhandled: boolean): Promise<boolean> {
    const attrs = d.continueAsNewWorkflowExecutionDecisionAttributes;
    const fail = (cause: ContinueAsNewWorkflowExecutionFailedCause) => {
      x.append({
        eventType: EventType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION_FAILED,
        continueAsNewWorkflowExecutionFailedEventAttributes: { cause, decisionTaskCompletedEventId: dtc },
      });
      return true;
    };
    if (unhandled) return fail(ContinueAsNewWorkflowExecutionFailedCause.UNHANDLED_DECISION);
    const version = attrs?.workflowTypeVersion ?? x.row.typeVersion;
    const t = await st.getType(sql, x.row.domain, "workflow", x.row.typeName, version);
    if (!t) return fail(ContinueAsNewWorkflowExecutionFailedCause.WORKFLOW_TYPE_DOES_NOT_EXIST);
    if (t.status !== "REGISTERED") return fail(ContinueAsNewWorkflowExecutionFailedCause.WORKFLOW_TYPE_DEPRECATED);
    const c = JSON.parse(t.config) as WorkflowTypeConfig;
    const cfg = {
      taskList: attrs?.taskList?.name ?? x.state.taskList ?? c.defaultTaskList,
      executionStartToCloseTimeout: attrs?.executionStartToCloseTimeout ?? x.state.executionStartToCloseTimeout ?? c.defaultExecutionStartToCloseTimeout,
      taskStartToCloseTimeout: attrs?.taskStartToCloseTimeout ?? x.state.taskStartToCloseTimeout ?? c.defaultTaskStartToCloseTimeout,
      childPolicy: attrs?.childPolicy ? childPolicyName(attrs.childPolicy) : (x.state.childPolicy ?? c.defaultChildPolicy),
      taskPriority: attrs?.taskPriority !== undefined ? String(parsePriority(attrs.taskPriority, "taskPriority")) : x.state.taskPriority,
      lambdaRole: attrs?.lambdaRole ?? x.state.lambdaRole,
    };
    const tagList = attrs && attrs.tagList.length > 0 ? attrs.tagList : x.state.tagList;
    // Close this run first so the workflowId is free for the new one.
    x.row.status = "CLOSED";
    await st.updateExecution(sql, { ...x.row, state: JSON.stringify(x.state) });
    const next = await this.#createExecution(sql, uow, {
      domain: x.row.domain,
      workflowId: x.row.workflowId,
      typeName: t.name,
      typeVersion: t.version,
      input: attrs?.input,
      tagList,
      taskList: cfg.taskList,
      executionStartToCloseTimeout: cfg.executionStartToCloseTimeout,
      taskStartToCloseTimeout: cfg.taskStartToCloseTimeout,
      childPolicy: cfg.childPolicy,
      taskPriority: cfg.taskPriority,
      lambdaRole: cfg.lambdaRole,
      parent: x.state.parent,
      continuedExecutionRunId: x.row.runId,
    });
    x.row.status = "OPEN";
    if (!next) throw new Error("continue-as-new: the workflowId is still open");
    x.append({
      eventType: EventType.WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
      workflowExecutionContinuedAsNewEventAttributes: {
        input: attrs?.input,
        decisionTaskCompletedEventId: dtc,
        newExecutionRunId: next.row.runId,
        executionStartToCloseTimeout: cfg.executionStartToCloseTimeout,
        taskList: { name: cfg.taskList },
        taskPriority: cfg.taskPriority,
        taskStartToCloseTimeout: cfg.taskStartToCloseTimeout,
        childPolicy: childPolicyValue(cfg.childPolicy),
        tagList,
        workflowType: { name: t.name, version: t.version },
        lambdaRole: cfg.lambdaRole,
      },
    });
    await next.flush(sql, this.#db.caps);
    await this.#close(sql, uow, x, "CONTINUED_AS_NEW");
    return false;
  }

  /** The other open execution a Signal/RequestCancelExternal decision names, in the same domain. */
  async #externalOpen(sql: Sql, x: ExecutionTx, workflowId: string, runId: string | undefined): Promise<st.ExecutionRow | undefined> {
    const t = runId ? await st.getExecution(sql, this.#db.caps, runId) : await st.findExecution(sql, this.#db.caps, x.row.domain, workflowId);
    if (!t || t.domain !== x.row.domain || t.workflowId !== workflowId || t.status !== "OPEN" || t.runId === x.row.runId) return undefined;
    return t;
  }

  async #signalExternal(sql: Sql, uow: UnitOfWork, x: ExecutionTx, d: Decision, dtc: bigint): Promise<boolean> {
    const a = d.signalExternalWorkflowExecutionDecisionAttributes!;
    const initiatedId = x.append({
      eventType: EventType.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
      signalExternalWorkflowExecutionInitiatedEventAttributes: {
        workflowId: a.workflowId,
        runId: a.runId,
        signalName: a.signalName,
        input: a.input,
        control: a.control,
        decisionTaskCompletedEventId: dtc,
      },
    });
    const trow = await this.#externalOpen(sql, x, a.workflowId!, a.runId);
    if (!trow) {
      x.append({
        eventType: EventType.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
        signalExternalWorkflowExecutionFailedEventAttributes: {
          workflowId: a.workflowId,
          runId: a.runId,
          cause: SignalExternalWorkflowExecutionFailedCause.UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION,
          initiatedEventId: BigInt(initiatedId),
          decisionTaskCompletedEventId: dtc,
          control: a.control,
        },
      });
      return true;
    }
    const target = new ExecutionTx(trow, x.nowMs);
    target.append({
      eventType: EventType.WORKFLOW_EXECUTION_SIGNALED,
      workflowExecutionSignaledEventAttributes: { signalName: a.signalName, input: a.input, externalWorkflowExecution: execRef(x), externalInitiatedEventId: BigInt(initiatedId) },
    });
    await this.#scheduleDecision(sql, uow, target);
    await target.flush(sql, this.#db.caps);
    x.append({
      eventType: EventType.EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
      externalWorkflowExecutionSignaledEventAttributes: { workflowExecution: execRef(target), initiatedEventId: BigInt(initiatedId) },
    });
    return true;
  }

  async #cancelExternal(sql: Sql, uow: UnitOfWork, x: ExecutionTx, d: Decision, dtc: bigint): Promise<boolean> {
    const a = d.requestCancelExternalWorkflowExecutionDecisionAttributes!;
    const initiatedId = x.append({
      eventType: EventType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
      requestCancelExternalWorkflowExecutionInitiatedEventAttributes: { workflowId: a.workflowId, runId: a.runId, control: a.control, decisionTaskCompletedEventId: dtc },
    });
    const trow = await this.#externalOpen(sql, x, a.workflowId!, a.runId);
    if (!trow) {
      x.append({
        eventType: EventType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
        requestCancelExternalWorkflowExecutionFailedEventAttributes: {
          workflowId: a.workflowId,
          runId: a.runId,
          cause: RequestCancelExternalWorkflowExecutionFailedCause.UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION,
          initiatedEventId: BigInt(initiatedId),
          decisionTaskCompletedEventId: dtc,
          control: a.control,
        },
      });
      return true;
    }
    const target = new ExecutionTx(trow, x.nowMs);
    if (!target.state.cancelRequested) {
      target.state.cancelRequested = true;
      target.append({
        eventType: EventType.WORKFLOW_EXECUTION_CANCEL_REQUESTED,
        workflowExecutionCancelRequestedEventAttributes: { externalWorkflowExecution: execRef(x), externalInitiatedEventId: BigInt(initiatedId) },
      });
      await this.#scheduleDecision(sql, uow, target);
    }
    await target.flush(sql, this.#db.caps);
    x.append({
      eventType: EventType.EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
      externalWorkflowExecutionCancelRequestedEventAttributes: { workflowExecution: execRef(target), initiatedEventId: BigInt(initiatedId) },
    });
    return true;
  }

  async #startChild(sql: Sql, uow: UnitOfWork, x: ExecutionTx, d: Decision, dtc: bigint): Promise<boolean> {
    const a = d.startChildWorkflowExecutionDecisionAttributes!;
    const fail = (cause: StartChildWorkflowExecutionFailedCause, initiatedEventId = 0) => {
      x.append({
        eventType: EventType.START_CHILD_WORKFLOW_EXECUTION_FAILED,
        startChildWorkflowExecutionFailedEventAttributes: {
          workflowType: a.workflowType,
          workflowId: a.workflowId,
          cause,
          initiatedEventId: BigInt(initiatedEventId),
          decisionTaskCompletedEventId: dtc,
          control: a.control,
        },
      });
      return true;
    };
    const t = await st.getType(sql, x.row.domain, "workflow", a.workflowType!.name!, a.workflowType!.version!);
    if (!t) return fail(StartChildWorkflowExecutionFailedCause.WORKFLOW_TYPE_DOES_NOT_EXIST);
    if (t.status !== "REGISTERED") return fail(StartChildWorkflowExecutionFailedCause.WORKFLOW_TYPE_DEPRECATED);
    const c = JSON.parse(t.config) as WorkflowTypeConfig;
    const cfg = {
      taskList: a.taskList?.name ?? c.defaultTaskList,
      executionStartToCloseTimeout: a.executionStartToCloseTimeout ?? c.defaultExecutionStartToCloseTimeout,
      taskStartToCloseTimeout: a.taskStartToCloseTimeout ?? c.defaultTaskStartToCloseTimeout,
      childPolicy: a.childPolicy ? childPolicyName(a.childPolicy) : c.defaultChildPolicy,
    };
    if (cfg.taskList === undefined) return fail(StartChildWorkflowExecutionFailedCause.DEFAULT_TASK_LIST_UNDEFINED);
    if (cfg.executionStartToCloseTimeout === undefined) return fail(StartChildWorkflowExecutionFailedCause.DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT_UNDEFINED);
    if (cfg.taskStartToCloseTimeout === undefined) return fail(StartChildWorkflowExecutionFailedCause.DEFAULT_TASK_START_TO_CLOSE_TIMEOUT_UNDEFINED);
    if (cfg.childPolicy === undefined) return fail(StartChildWorkflowExecutionFailedCause.DEFAULT_CHILD_POLICY_UNDEFINED);
    const priority = a.taskPriority !== undefined ? String(parsePriority(a.taskPriority, "taskPriority")) : (c.defaultTaskPriority ?? "0");
    const initiatedId = x.append({
      eventType: EventType.START_CHILD_WORKFLOW_EXECUTION_INITIATED,
      startChildWorkflowExecutionInitiatedEventAttributes: {
        workflowId: a.workflowId,
        workflowType: a.workflowType,
        control: a.control,
        input: a.input,
        executionStartToCloseTimeout: cfg.executionStartToCloseTimeout,
        taskList: { name: cfg.taskList },
        taskPriority: priority,
        decisionTaskCompletedEventId: dtc,
        childPolicy: childPolicyValue(cfg.childPolicy),
        taskStartToCloseTimeout: cfg.taskStartToCloseTimeout,
        tagList: a.tagList,
        lambdaRole: a.lambdaRole,
      },
    });
    const child = await this.#createExecution(sql, uow, {
      domain: x.row.domain,
      workflowId: a.workflowId!,
      typeName: t.name,
      typeVersion: t.version,
      input: a.input,
      tagList: a.tagList,
      taskList: cfg.taskList,
      executionStartToCloseTimeout: cfg.executionStartToCloseTimeout,
      taskStartToCloseTimeout: cfg.taskStartToCloseTimeout,
      childPolicy: cfg.childPolicy,
      taskPriority: priority,
      lambdaRole: a.lambdaRole ?? c.defaultLambdaRole,
      // ChildWorkflowExecutionStarted is the parent's next event, appended right below.
      parent: { workflowId: x.row.workflowId, runId: x.row.runId, initiatedEventId: initiatedId, startedEventId: x.row.nextEventId, domain: x.row.domain },
    });
    if (!child) return fail(StartChildWorkflowExecutionFailedCause.WORKFLOW_ALREADY_RUNNING, initiatedId);
    await child.flush(sql, this.#db.caps);
    x.append({
      eventType: EventType.CHILD_WORKFLOW_EXECUTION_STARTED,
      childWorkflowExecutionStartedEventAttributes: { workflowExecution: execRef(child), workflowType: execTypeInfo(child), initiatedEventId: BigInt(initiatedId) },
    });
    x.state.openChildWorkflowExecutions++;
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Activity tasks

  async pollForActivityTask(req: pb.PollForActivityTaskRequest, opts: PollOptions): Promise<Res<typeof pb.PollForActivityTaskResponseSchema>> {
    await this.#domainExists(req.domain!);
    const queue = queueName.activity(req.domain!, req.taskList!.name!);
    return this.#tasks.poll<ExecutionTx, ActivityPayload, ClaimedActivity, Res<typeof pb.PollForActivityTaskResponseSchema>>(this.#activityTask, queue, req.identity, opts, activityTask, (): Res<typeof pb.PollForActivityTaskResponseSchema> => ({ startedEventId: 0n }));
  }

  /** Server-streamed activity tasks, sent in the batches they were claimed in. */
  async *streamActivityTasks(req: pb.StreamActivityTasksRequest, maxInFlight: number, signal: AbortSignal): AsyncGenerator<Res<typeof pb.StreamActivityTasksResponseSchema>[]> {
    await this.#domainExists(req.domain!);
    const queue = queueName.activity(req.domain!, req.taskList!.name!);
    yield* this.#tasks.stream(this.#activityTask, queue, req.identity, maxInFlight, signal, activityTask, false);
  }

  /** The started activity task of a token, or UnknownResourceFault. */
  async #startedActivity(sql: Sql, token: string): Promise<{ row: TaskRow; p: ActivityPayload; x: ExecutionTx }> {
    const found = await st.startedTaskWithExecution(sql, this.#db.caps, token);
    if (!found || !found.task.key.startsWith("a:")) throw unknownToken();
    return { row: found.task, p: JSON.parse(found.task.payload) as ActivityPayload, x: new ExecutionTx(found.execution, this.#clock.now()) };
  }

  async recordActivityTaskHeartbeat(req: pb.RecordActivityTaskHeartbeatRequest): Promise<Res<typeof pb.RecordActivityTaskHeartbeatResponseSchema>> {
    return this.#tx(async (sql, uow) => {
      const { row, p } = await this.#startedActivity(sql, req.taskToken!);
      if (req.details !== undefined) p.details = req.details;
      await this.#tasks.heartbeat(uow, this.#activityTask, row, p, parseDuration(p.heartbeatTimeout, "heartbeatTimeout"));
      return { cancelRequested: p.cancelRequested ?? false };
    });
  }

  async respondActivityTaskCompleted(req: pb.RespondActivityTaskCompletedRequest): Promise<Res<typeof pb.RespondActivityTaskCompletedResponseSchema>> {
    await this.#closeActivity(req.taskToken!, (p) => ({
      eventType: EventType.ACTIVITY_TASK_COMPLETED,
      activityTaskCompletedEventAttributes: { result: req.result, scheduledEventId: BigInt(p.scheduledEventId), startedEventId: BigInt(p.startedEventId!) },
    }));
    return {};
  }

  async respondActivityTaskFailed(req: pb.RespondActivityTaskFailedRequest): Promise<Res<typeof pb.RespondActivityTaskFailedResponseSchema>> {
    await this.#closeActivity(req.taskToken!, (p) => ({
      eventType: EventType.ACTIVITY_TASK_FAILED,
      activityTaskFailedEventAttributes: { reason: req.reason, details: req.details, scheduledEventId: BigInt(p.scheduledEventId), startedEventId: BigInt(p.startedEventId!) },
    }));
    return {};
  }

  async respondActivityTaskCanceled(req: pb.RespondActivityTaskCanceledRequest): Promise<Res<typeof pb.RespondActivityTaskCanceledResponseSchema>> {
    await this.#closeActivity(req.taskToken!, (p) => ({
      eventType: EventType.ACTIVITY_TASK_CANCELED,
      activityTaskCanceledEventAttributes: {
        details: req.details,
        scheduledEventId: BigInt(p.scheduledEventId),
        startedEventId: BigInt(p.startedEventId!),
        latestCancelRequestedEventId: p.latestCancelRequestedEventId !== undefined ? BigInt(p.latestCancelRequestedEventId) : undefined,
      },
    }));
    return {};
  }

  async #closeActivity(token: string, event: (p: ActivityPayload) => Parameters<ExecutionTx["append"]>[0]): Promise<void> {
    await this.#tx(async (sql, uow) => {
      const { row, p, x } = await this.#startedActivity(sql, token);
      x.append(event(p));
      await this.#tasks.close(uow, row, hasTimeouts(p));
      x.state.openActivityTasks = Math.max(0, x.state.openActivityTasks - 1);
      await this.#scheduleDecision(sql, uow, x);
      await x.flush(sql, this.#db.caps);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Timeouts

  async #executionTimeout(sql: Sql, uow: UnitOfWork, t: TimerRow): Promise<void> {
    const x = await this.#loadOpen(sql, t.owner);
    if (!x) return;
    x.append({
      eventType: EventType.WORKFLOW_EXECUTION_TIMED_OUT,
      workflowExecutionTimedOutEventAttributes: { timeoutType: WorkflowExecutionTimeoutType.START_TO_CLOSE, childPolicy: childPolicyValue(x.state.childPolicy) },
    });
    await this.#close(sql, uow, x, "TIMED_OUT");
    await x.flush(sql, this.#db.caps);
    await this.#applyChildPolicy(sql, uow, x.row.runId, x.state.childPolicy, x.nowMs);
  }

  async #timerFired(sql: Sql, uow: UnitOfWork, t: TimerRow): Promise<void> {
    const x = await this.#loadOpen(sql, t.owner);
    const timerId = t.ref.slice("timer:".length);
    const open = x?.state.timers[timerId];
    if (!x || !open) return;
    delete x.state.timers[timerId];
    x.state.openTimers = Math.max(0, x.state.openTimers - 1);
    x.append({ eventType: EventType.TIMER_FIRED, timerFiredEventAttributes: { timerId, startedEventId: BigInt(open.startedEventId) } });
    await this.#scheduleDecision(sql, uow, x);
    await x.flush(sql, this.#db.caps);
  }

  async #purge(sql: Sql, t: TimerRow): Promise<void> {
    const row = await st.getExecution(sql, this.#db.caps, t.owner);
    if (!row || row.status !== "CLOSED") return;
    await st.purgeExecution(sql, t.owner);
  }

  // ---------------------------------------------------------------------------------------------
  // Page tokens: base64url(JSON) + "." + HMAC, valid 24 hours.

  #token(body: object): string {
    const json = Buffer.from(JSON.stringify({ ...body, x: this.#clock.now() + pageTokenMs })).toString("base64url");
    return `${json}.${this.#mac(json)}`;
  }

  #readToken<B extends { k: string }>(token: string, kind: string): B {
    const [json, mac] = token.split(".");
    if (!json || !mac) throw validationError("Invalid nextPageToken.");
    const expect = Buffer.from(this.#mac(json));
    const got = Buffer.from(mac);
    if (expect.length !== got.length || !timingSafeEqual(expect, got)) throw validationError("Invalid nextPageToken.");
    const body = JSON.parse(Buffer.from(json, "base64url").toString()) as B & { x: number };
    if (body.k !== kind) throw validationError("The nextPageToken was issued by another operation.");
    if (body.x < this.#clock.now()) throw validationError("Specified token has exceeded its maximum lifetime");
    return body;
  }

  #mac(s: string): string {
    return createHmac("sha256", this.#secret!).update(s).digest("base64url").slice(0, 22);
  }
}

/** The continuation of a decision task's history (PollForDecisionTask nextPageToken). */
interface DecisionPageToken {
  k: "d";
  t: string;
  r: string;
  w: string;
  n: string;
  v: string;
  s: number;
  p: number;
  dm: string;
  u: number;
  rev: boolean;
  c: number;
  lo: number;
}

function unknownToken() {
  return swf.unknownResource("Unknown or expired task token: the task was completed, timed out or handed to another worker, or its execution closed.");
}

function activityTask(c: ClaimedActivity) {
  return {
    taskToken: c.token,
    activityId: c.payload.activityId,
    startedEventId: BigInt(c.payload.startedEventId!),
    workflowExecution: { workflowId: c.payload.workflowId, runId: c.runId },
    activityType: { name: c.payload.typeName, version: c.payload.typeVersion },
    input: c.payload.input,
  };
}

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

/**
 * Checks resource tags: at most 50, keys unique, and only "unicode letters, digits, whitespace, or
 * these symbols: _ . : / = + - @" (the model's documented rule) in keys and values.
 */
function checkTags(tags: { key?: string; value?: string }[], path: string): { key: string; value: string }[] {
  if (tags.length > maxTags) throw swf.tooManyTags(`A domain can have at most ${maxTags} tags; ${tags.length} were given.`);
  const allowed = /^[\p{L}\p{N}\p{Z}\s_.:/=+\-@]*$/u;
  return tags.map((t, i) => {
    for (const [name, v] of [["key", t.key ?? ""], ["value", t.value ?? ""]] as const)
      if (!allowed.test(v))
        throw validationError(`1 validation error detected: Value '${v}' at '${path}.${i + 1}.member.${name}' failed to satisfy constraint: Member must contain only unicode letters, digits, whitespace, or _ . : / = + - @`);
    return { key: t.key!, value: t.value ?? "" };
  });
}

/** Whether an activity armed any timer (all four timeouts NONE arm none). */
function hasTimeouts(p: ActivityPayload): boolean {
  return p.scheduleToStartTimeout !== "NONE" || p.scheduleToCloseTimeout !== "NONE" || p.startToCloseTimeout !== "NONE" || p.heartbeatTimeout !== "NONE";
}

function pageSize(n: number | undefined): number {
  return n === undefined || n === 0 ? maxPage : n;
}

function typeLabel(kind: "workflow" | "activity", name: string, version: string): string {
  return `${kind === "workflow" ? "WorkflowType" : "ActivityType"}=[name=${name}, version=${version}]`;
}

function domainInfo(d: st.DomainRow) {
  return {
    name: d.name,
    status: d.status === "REGISTERED" ? RegistrationStatus.REGISTERED : RegistrationStatus.DEPRECATED,
    description: d.description ?? undefined,
    arn: `${arnPrefix}:/domain/${d.name}`,
  };
}

function typeInfoBase(t: st.TypeRow) {
  return {
    status: t.status === "REGISTERED" ? RegistrationStatus.REGISTERED : RegistrationStatus.DEPRECATED,
    description: t.description ?? undefined,
    creationDate: timestampFromMs(t.createdMs),
    deprecationDate: t.deprecatedMs !== null ? timestampFromMs(t.deprecatedMs) : undefined,
  };
}

function workflowTypeInfo(t: st.TypeRow) {
  return { workflowType: { name: t.name, version: t.version }, ...typeInfoBase(t) };
}

function activityTypeInfo(t: st.TypeRow) {
  return { activityType: { name: t.name, version: t.version }, ...typeInfoBase(t) };
}

function registrationStatusName(s: RegistrationStatus): string {
  return s === RegistrationStatus.DEPRECATED ? "DEPRECATED" : "REGISTERED";
}

const childPolicies: [ChildPolicy, string][] = [
  [ChildPolicy.TERMINATE, "TERMINATE"],
  [ChildPolicy.REQUEST_CANCEL, "REQUEST_CANCEL"],
  [ChildPolicy.ABANDON, "ABANDON"],
];

function childPolicyName(p: ChildPolicy): string {
  return childPolicies.find(([v]) => v === p)?.[1] ?? "TERMINATE";
}

function childPolicyValue(name: string): ChildPolicy {
  return childPolicies.find(([, n]) => n === name)?.[0] ?? ChildPolicy.UNSPECIFIED;
}

const closeStatusValue: Record<string, CloseStatus> = {
  COMPLETED: CloseStatus.COMPLETED,
  FAILED: CloseStatus.FAILED,
  CANCELED: CloseStatus.CANCELED,
  TERMINATED: CloseStatus.TERMINATED,
  CONTINUED_AS_NEW: CloseStatus.CONTINUED_AS_NEW,
  TIMED_OUT: CloseStatus.TIMED_OUT,
};

function executionInfo(x: ExecutionTx) {
  return {
    execution: execRef(x),
    workflowType: execTypeInfo(x),
    startTimestamp: timestampFromMs(x.row.startMs),
    closeTimestamp: x.row.closeMs !== null ? timestampFromMs(x.row.closeMs) : undefined,
    executionStatus: x.open ? ExecutionStatus.OPEN : ExecutionStatus.CLOSED,
    closeStatus: x.row.closeStatus ? closeStatusValue[x.row.closeStatus] : undefined,
    parent: x.state.parent ? { workflowId: x.state.parent.workflowId, runId: x.state.parent.runId } : undefined,
    tagList: x.state.tagList,
    cancelRequested: x.state.cancelRequested,
  };
}

/**
 * Checks a decision batch before anything is written, as AWS does with a synchronous 400: each
 * decision carries the attributes of its type, a closing decision comes last, durations and
 * priorities parse. Nothing is applied when one decision is invalid.
 */
function checkDecisions(decisions: Decision[]): void {
  decisions.forEach((d, i) => {
    const path = `decisions.${i + 1}.member`;
    if (d.decisionType === DecisionType.UNSPECIFIED) throw validationError(`1 validation error detected: Value null at '${path}.decisionType' failed to satisfy constraint: Member must not be null`);
    const [field, awsName, typeName] = decisionAttr[d.decisionType];
    if (awsName && d[field] === undefined) throw validationError(`${awsName} must be specified for decision of type ${typeName}`);
    if (closeDecisions.has(d.decisionType) && i !== decisions.length - 1) throw validationError("Close must be last decision in list");
    const a = d.scheduleActivityTaskDecisionAttributes;
    if (d.decisionType === DecisionType.SCHEDULE_ACTIVITY_TASK && a) {
      checkDuration(a.scheduleToCloseTimeout, `${path}.scheduleActivityTaskDecisionAttributes.scheduleToCloseTimeout`);
      checkDuration(a.scheduleToStartTimeout, `${path}.scheduleActivityTaskDecisionAttributes.scheduleToStartTimeout`);
      checkDuration(a.startToCloseTimeout, `${path}.scheduleActivityTaskDecisionAttributes.startToCloseTimeout`);
      checkDuration(a.heartbeatTimeout, `${path}.scheduleActivityTaskDecisionAttributes.heartbeatTimeout`);
      parsePriority(a.taskPriority, `${path}.scheduleActivityTaskDecisionAttributes.taskPriority`);
    }
    if (d.decisionType === DecisionType.START_TIMER && d.startTimerDecisionAttributes)
      parseDuration(d.startTimerDecisionAttributes.startToFireTimeout ?? "", `${path}.startTimerDecisionAttributes.startToFireTimeout`, false);
    const c = d.continueAsNewWorkflowExecutionDecisionAttributes;
    if (d.decisionType === DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION && c) {
      checkDuration(c.executionStartToCloseTimeout, `${path}.continueAsNewWorkflowExecutionDecisionAttributes.executionStartToCloseTimeout`, false);
      checkDuration(c.taskStartToCloseTimeout, `${path}.continueAsNewWorkflowExecutionDecisionAttributes.taskStartToCloseTimeout`);
      parsePriority(c.taskPriority, `${path}.continueAsNewWorkflowExecutionDecisionAttributes.taskPriority`);
    }
    const s = d.startChildWorkflowExecutionDecisionAttributes;
    if (d.decisionType === DecisionType.START_CHILD_WORKFLOW_EXECUTION && s) {
      checkDuration(s.executionStartToCloseTimeout, `${path}.startChildWorkflowExecutionDecisionAttributes.executionStartToCloseTimeout`, false);
      checkDuration(s.taskStartToCloseTimeout, `${path}.startChildWorkflowExecutionDecisionAttributes.taskStartToCloseTimeout`);
      parsePriority(s.taskPriority, `${path}.startChildWorkflowExecutionDecisionAttributes.taskPriority`);
    }
  });
}
