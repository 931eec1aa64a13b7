// The Step Functions engine: a facade with one line per operation of StepFunctionsService. The
// rules live behind it, one concern per file:
// - ops/activities.ts: CreateActivity, DescribeActivity, ListActivities, DeleteActivity;
// - ops/state-machines.ts: the state machine operations, ValidateStateMachineDefinition, and the
//   tags of activities and state machines;
// - ops/executions.ts: StartExecution … DescribeStateMachineForExecution, and DeleteStateMachine
//   (which waits for running executions);
// - ops/activity-worker.ts: GetActivityTask, StreamActivityTasks, SendTask*, RespondActivityTasks;
// - execution.ts: one interpreter step of one execution in one unit of work; activity-task.ts and
//   timers.ts: the activity task kind and the interpreter's timers on the dispatch core;
// - present.ts: the wire shapes and the rules of wire values (names, tags, configurations).
import type * as pb from "../../gen/taskgate/sfn/v1/service_pb.ts";
import type { Clock, Dispatch, PollOptions, TaskKind, UnitOfWork, WorkerTasks } from "../dispatch/index.ts";
import type { Database } from "../store/db.ts";
import { arnScope, type ArnScope } from "../resources/arn.ts";
import { PageTokens } from "../resources/page-token.ts";
import type { IntrinsicEnv } from "./asl/intrinsics.ts";
import type { Res } from "./present.ts";
import * as activities from "./ops/activities.ts";
import * as machines from "./ops/state-machines.ts";
import * as executions from "./ops/executions.ts";
import * as worker from "./ops/activity-worker.ts";
import { activityTaskKind, type ActivityPayload, type ClaimedActivity } from "./activity-task.ts";
import { MachineCache, type OpenExecution } from "./execution.ts";
import { registerTimers } from "./timers.ts";

/** What every Step Functions operation shares. */
export interface Sfn {
  readonly db: Database;
  readonly clock: Clock;
  readonly pages: PageTokens;
  /** The region and account of every ARN this engine issues and accepts as its own. */
  readonly scope: ArnScope;
  /** A fresh unique id (revision ids, execution names); injected so the engine stays free of node:crypto. */
  readonly newId: () => string;
  /** One transaction through a unit of work: its outbox applies after commit. */
  tx<R>(fn: (uow: UnitOfWork) => Promise<R>): Promise<R>;
  /** The dispatch core (timers). */
  readonly core: Dispatch;
  /** The worker-task lifecycle activity tasks run on. */
  readonly tasks: WorkerTasks;
  /** The activity task kind. */
  readonly activityTask: TaskKind<OpenExecution, ActivityPayload, ClaimedActivity>;
  /** Hashing, UUIDs and randomness of intrinsic functions and retry jitter. */
  readonly intrinsics: IntrinsicEnv;
  /** Parsed definitions by revision. */
  readonly machines: MachineCache;
  /** Most GetActivityTask polls and StreamActivityTasks streams held on one activity on this node (counted by the dispatch core). */
  readonly maxActivityPollers: number;
  /** Activities known to exist (never forgotten: a deleted activity's poll merely finds no task). */
  readonly knownActivities: Set<string>;
}

/** What the Step Functions engine needs: the dispatch core, the ARN region and account, id and randomness sources. */
export interface SfnDeps {
  readonly core: Dispatch;
  /** AWS region of the ARNs (config `--region`). */
  readonly region: string;
  /** 12-digit AWS account id of the ARNs (config `--account-id`). */
  readonly accountId: string;
  /** A fresh unique id on every call (e.g. crypto.randomUUID). */
  readonly newId: () => string;
  /** Hashing, UUIDs and randomness for the interpreter (e.g. cryptoIntrinsicEnv). */
  readonly intrinsics: IntrinsicEnv;
  /** Most polls and streams held on one activity on this node (config `--max-activity-pollers`; default 1000). */
  readonly maxActivityPollers?: number;
}

/** The Step Functions engine of one node. */
export class SfnEngine {
  readonly #sfn: Sfn;
  readonly #core: Dispatch;

  constructor(deps: SfnDeps) {
    const core = (this.#core = deps.core);
    const ctx: Omit<Sfn, "activityTask"> & { activityTask?: Sfn["activityTask"] } = {
      db: core.db,
      clock: core.clock,
      pages: new PageTokens(core.clock),
      scope: arnScope(deps.region, deps.accountId),
      newId: deps.newId,
      tx: (fn) => core.units.run(fn),
      core,
      tasks: core.tasks,
      intrinsics: deps.intrinsics,
      machines: new MachineCache(),
      maxActivityPollers: deps.maxActivityPollers ?? 1000,
      knownActivities: new Set(),
    };
    const full = ctx as Sfn;
    ctx.activityTask = activityTaskKind(full);
    this.#sfn = full;
    core.tasks.register(full.activityTask);
    registerTimers(full);
  }

  /** Loads the page-token secret (created once per database, shared with the other engines). */
  async init(): Promise<void> {
    await this.#sfn.pages.init((key, init) => this.#core.meta(key, init));
  }

  createActivity(req: pb.CreateActivityRequest): Promise<Res<typeof pb.CreateActivityResponseSchema>> {
    return activities.createActivity(this.#sfn, req);
  }

  describeActivity(req: pb.DescribeActivityRequest): Promise<Res<typeof pb.DescribeActivityResponseSchema>> {
    return activities.describeActivity(this.#sfn, req);
  }

  listActivities(req: pb.ListActivitiesRequest): Promise<Res<typeof pb.ListActivitiesResponseSchema>> {
    return activities.listActivities(this.#sfn, req);
  }

  deleteActivity(req: pb.DeleteActivityRequest): Promise<Res<typeof pb.DeleteActivityResponseSchema>> {
    return activities.deleteActivity(this.#sfn, req);
  }

  createStateMachine(req: pb.CreateStateMachineRequest): Promise<Res<typeof pb.CreateStateMachineResponseSchema>> {
    return machines.createStateMachine(this.#sfn, req);
  }

  describeStateMachine(req: pb.DescribeStateMachineRequest): Promise<Res<typeof pb.DescribeStateMachineResponseSchema>> {
    return machines.describeStateMachine(this.#sfn, req);
  }

  updateStateMachine(req: pb.UpdateStateMachineRequest): Promise<Res<typeof pb.UpdateStateMachineResponseSchema>> {
    return machines.updateStateMachine(this.#sfn, req);
  }

  deleteStateMachine(req: pb.DeleteStateMachineRequest): Promise<Res<typeof pb.DeleteStateMachineResponseSchema>> {
    return executions.deleteStateMachine(this.#sfn, req);
  }

  listStateMachines(req: pb.ListStateMachinesRequest): Promise<Res<typeof pb.ListStateMachinesResponseSchema>> {
    return machines.listStateMachines(this.#sfn, req);
  }

  validateStateMachineDefinition(req: pb.ValidateStateMachineDefinitionRequest): Promise<Res<typeof pb.ValidateStateMachineDefinitionResponseSchema>> {
    return machines.validateStateMachineDefinition(this.#sfn, req);
  }

  tagResource(req: pb.TagResourceRequest): Promise<Res<typeof pb.TagResourceResponseSchema>> {
    return machines.tagResource(this.#sfn, req);
  }

  untagResource(req: pb.UntagResourceRequest): Promise<Res<typeof pb.UntagResourceResponseSchema>> {
    return machines.untagResource(this.#sfn, req);
  }

  listTagsForResource(req: pb.ListTagsForResourceRequest): Promise<Res<typeof pb.ListTagsForResourceResponseSchema>> {
    return machines.listTagsForResource(this.#sfn, req);
  }

  // ---- executions and activity workers ----

  getActivityTask(req: pb.GetActivityTaskRequest, poll: PollOptions): Promise<Res<typeof pb.GetActivityTaskResponseSchema>> {
    return worker.getActivityTask(this.#sfn, req, poll);
  }

  streamActivityTasks(req: pb.StreamActivityTasksRequest, maxInFlight: number, signal: AbortSignal): AsyncIterable<Res<typeof pb.StreamActivityTasksResponseSchema>[]> {
    return worker.streamActivityTasks(this.#sfn, req, maxInFlight, signal);
  }

  sendTaskSuccess(req: pb.SendTaskSuccessRequest): Promise<Res<typeof pb.SendTaskSuccessResponseSchema>> {
    return worker.sendTaskSuccess(this.#sfn, req);
  }

  sendTaskFailure(req: pb.SendTaskFailureRequest): Promise<Res<typeof pb.SendTaskFailureResponseSchema>> {
    return worker.sendTaskFailure(this.#sfn, req);
  }

  sendTaskHeartbeat(req: pb.SendTaskHeartbeatRequest): Promise<Res<typeof pb.SendTaskHeartbeatResponseSchema>> {
    return worker.sendTaskHeartbeat(this.#sfn, req);
  }

  respondActivityTasks(req: pb.RespondActivityTasksRequest): Promise<Res<typeof pb.RespondActivityTasksResponseSchema>> {
    return worker.respondActivityTasks(this.#sfn, req);
  }

  startExecution(req: pb.StartExecutionRequest): Promise<Res<typeof pb.StartExecutionResponseSchema>> {
    return executions.startExecution(this.#sfn, req);
  }

  describeExecution(req: pb.DescribeExecutionRequest): Promise<Res<typeof pb.DescribeExecutionResponseSchema>> {
    return executions.describeExecution(this.#sfn, req);
  }

  stopExecution(req: pb.StopExecutionRequest): Promise<Res<typeof pb.StopExecutionResponseSchema>> {
    return executions.stopExecution(this.#sfn, req);
  }

  listExecutions(req: pb.ListExecutionsRequest): Promise<Res<typeof pb.ListExecutionsResponseSchema>> {
    return executions.listExecutions(this.#sfn, req);
  }

  getExecutionHistory(req: pb.GetExecutionHistoryRequest): Promise<Res<typeof pb.GetExecutionHistoryResponseSchema>> {
    return executions.getExecutionHistory(this.#sfn, req);
  }

  describeStateMachineForExecution(req: pb.DescribeStateMachineForExecutionRequest): Promise<Res<typeof pb.DescribeStateMachineForExecutionResponseSchema>> {
    return executions.describeStateMachineForExecution(this.#sfn, req);
  }
}
