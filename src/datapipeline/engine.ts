// The Data Pipeline engine: a facade with one line per operation of DataPipelineService. The rules
// live behind it, one concern per file:
// - ops/pipelines.ts: create, delete, describe, list, tags, activate, deactivate;
// - ops/definitions.ts: Put/Validate/GetPipelineDefinition and EvaluateExpression;
// - ops/objects.ts: DescribeObjects, QueryObjects, SetStatus;
// - ops/task-runner.ts: PollForTask, StreamTasks, ReportTaskProgress, SetTaskStatus,
//   RespondPipelineTasks, ReportTaskRunnerHeartbeat;
// - scheduler.ts: instances, attempts, dependencies, retries and their timers;
// - attempt-task.ts: the attempt as a worker-task kind of the dispatch core;
// - present.ts: the wire shapes of objects and the evaluation of their expressions.
import type * as pb from "../../gen/taskgate/datapipeline/v1/service_pb.ts";
import type { Clock, Dispatch, PollOptions, TaskKind, UnitOfWork, WorkerTasks } from "../dispatch/index.ts";
import type { Database } from "../store/db.ts";
import pino, { type Logger } from "pino";
import { PageTokens } from "../resources/page-token.ts";
import * as st from "../store/datapipeline.ts";
import type { PipelineModel } from "./definition/objects.ts";
import { validateDefinition } from "./definition/validate.ts";
import { attemptTaskKind, type ClaimedAttempt } from "./attempt-task.ts";
import { lateFired, PipelineTx, retryFired, scheduleFired, T, type AttemptPayload, type RunState, type StoredDefinition } from "./scheduler.ts";
import type { Res } from "./present.ts";
import * as pipelines from "./ops/pipelines.ts";
import * as definitions from "./ops/definitions.ts";
import * as objects from "./ops/objects.ts";
import * as runner from "./ops/task-runner.ts";

/** What every Data Pipeline operation shares. */
export interface Dp {
  readonly db: Database;
  readonly clock: Clock;
  readonly pages: PageTokens;
  readonly tasks: WorkerTasks;
  readonly attemptTask: TaskKind<PipelineTx, AttemptPayload, ClaimedAttempt>;
  /** The account id DescribePipelines reports (`@accountId`). */
  readonly accountId: string;
  /** A fresh pipeline id suffix source: 19 characters of [0-9A-Z] per call. */
  readonly newId: () => string;
  /** Where late instances and recorded SnsAlarm actions are logged. */
  readonly log: Logger;
  /** Most schedule periods created per component in one pass (a backfill longer than this continues at the next). */
  readonly maxBackfill: number;
  /** Most PollForTask polls and StreamTasks streams held at once on one worker group queue on this node. */
  readonly maxPollsPerWorkerGroup: number;
  /** One transaction through a unit of work: its outbox applies after commit. */
  tx<R>(fn: (uow: UnitOfWork) => Promise<R>): Promise<R>;
  /**
   * A live pipeline opened for change with its active model and, unless `live` is false, the
   * instances and attempts that have not ended; undefined when absent or deleted. Its row is
   * locked unless `lock` is false: only a claim opens it unlocked, as it changes nothing but its
   * own attempt and instance, whose task row it holds locked.
   */
  open(uow: UnitOfWork, id: string, live?: boolean, lock?: boolean): Promise<PipelineTx | undefined>;
  /** The model of a stored definition (built once per pipeline, version and parameter values). */
  modelOf(pipelineId: string, def: StoredDefinition): PipelineModel | undefined;
}

/** What the Data Pipeline engine needs: the dispatch core, the account id, an id source. */
export interface DpDeps {
  readonly core: Dispatch;
  /** 12-digit AWS account id (config `--account-id`). */
  readonly accountId: string;
  /** A fresh random id of 19 characters of [0-9A-Z] (pipeline ids are `df-` and it). */
  readonly newId: () => string;
  /** Where late instances and recorded SnsAlarm actions are logged; silent when not given. */
  readonly log?: Logger;
  /** Most polls and streams held at once on one worker group queue on this node (config `--max-polls-per-task-list`; default 1000). */
  readonly maxPollsPerWorkerGroup?: number;
}

/** Models kept per process; an entry is a few kB, so 1,000 bound it to a few MB. */
const maxCachedModels = 1_000;

/** The Data Pipeline engine of one node. */
export class DataPipelineEngine {
  readonly #dp: Dp;
  readonly #core: Dispatch;

  constructor(deps: DpDeps) {
    const core = (this.#core = deps.core);
    const models = new Map<string, PipelineModel | undefined>();
    const active = new Map<string, PipelineModel>();
    const modelOf = (pipelineId: string, def: StoredDefinition): PipelineModel | undefined => {
      const key = `${pipelineId}:${def.version}:${JSON.stringify(def.parameterValues)}`;
      if (models.has(key)) return models.get(key);
      const m = validateDefinition(def.objects, def.parameterObjects, def.parameterValues).model;
      if (models.size >= maxCachedModels) models.clear();
      models.set(key, m);
      return m;
    };
    const dp: Dp = {
      db: core.db,
      clock: core.clock,
      pages: new PageTokens(core.clock),
      tasks: core.tasks,
      get attemptTask() {
        return kind;
      },
      accountId: deps.accountId,
      newId: deps.newId,
      log: deps.log ?? pino({ level: "silent" }),
      maxBackfill: 1_000,
      maxPollsPerWorkerGroup: deps.maxPollsPerWorkerGroup ?? 1_000,
      tx: (fn) => core.units.run(fn),
      open: async (uow, id, live = true, lock = true) => {
        const row = await st.getPipeline(uow.sql, uow.caps, id, lock);
        if (!row || row.deleted) return undefined;
        const state = JSON.parse(row.state) as RunState;
        // A run stored before instances had rows moves to rows at this change: under the lock.
        if (!lock && Object.keys(state.instances ?? {}).length > 0) return dp.open(uow, id, live, true);
        // The active definition changes only with an activation, which moves the generation.
        const key = `${row.id}@${state.gen}`;
        let model = active.get(key);
        if (model === undefined && row.active !== null) {
          model = modelOf(row.id, JSON.parse(row.active) as StoredDefinition);
          if (active.size >= maxCachedModels) active.clear();
          if (model) active.set(key, model);
        }
        const x = new PipelineTx(row, core.clock.now(), model, state);
        return live ? x.load(uow.sql) : x;
      },
      modelOf,
    };
    const kind = attemptTaskKind(dp);
    this.#dp = dp;
    core.tasks.register(kind);
    core.timers.on(T.schedule, (uow, t) => scheduleFired(dp, uow, t));
    core.timers.on(T.retry, (uow, t) => retryFired(dp, uow, t));
    core.timers.on(T.late, (uow, t) => lateFired(dp, uow, t));
  }

  /** Loads the page-token secret (created once per database, shared with the other engines). */
  async init(): Promise<void> {
    await this.#dp.pages.init((key, init) => this.#core.meta(key, init));
  }

  activatePipeline(req: pb.ActivatePipelineRequest): Promise<Res<typeof pb.ActivatePipelineResponseSchema>> {
    return pipelines.activatePipeline(this.#dp, req);
  }

  addTags(req: pb.AddTagsRequest): Promise<Res<typeof pb.AddTagsResponseSchema>> {
    return pipelines.addTags(this.#dp, req);
  }

  createPipeline(req: pb.CreatePipelineRequest): Promise<Res<typeof pb.CreatePipelineResponseSchema>> {
    return pipelines.createPipeline(this.#dp, req);
  }

  deactivatePipeline(req: pb.DeactivatePipelineRequest): Promise<Res<typeof pb.DeactivatePipelineResponseSchema>> {
    return pipelines.deactivatePipeline(this.#dp, req);
  }

  deletePipeline(req: pb.DeletePipelineRequest): Promise<Res<typeof pb.DeletePipelineResponseSchema>> {
    return pipelines.deletePipeline(this.#dp, req);
  }

  describeObjects(req: pb.DescribeObjectsRequest): Promise<Res<typeof pb.DescribeObjectsResponseSchema>> {
    return objects.describeObjects(this.#dp, req);
  }

  describePipelines(req: pb.DescribePipelinesRequest): Promise<Res<typeof pb.DescribePipelinesResponseSchema>> {
    return pipelines.describePipelines(this.#dp, req);
  }

  evaluateExpression(req: pb.EvaluateExpressionRequest): Promise<Res<typeof pb.EvaluateExpressionResponseSchema>> {
    return definitions.evaluateExpressionOp(this.#dp, req);
  }

  getPipelineDefinition(req: pb.GetPipelineDefinitionRequest): Promise<Res<typeof pb.GetPipelineDefinitionResponseSchema>> {
    return definitions.getPipelineDefinition(this.#dp, req);
  }

  listPipelines(req: pb.ListPipelinesRequest): Promise<Res<typeof pb.ListPipelinesResponseSchema>> {
    return pipelines.listPipelines(this.#dp, req);
  }

  pollForTask(req: pb.PollForTaskRequest, poll: PollOptions): Promise<Res<typeof pb.PollForTaskResponseSchema>> {
    return runner.pollForTask(this.#dp, req, poll);
  }

  putPipelineDefinition(req: pb.PutPipelineDefinitionRequest): Promise<Res<typeof pb.PutPipelineDefinitionResponseSchema>> {
    return definitions.putPipelineDefinition(this.#dp, req);
  }

  queryObjects(req: pb.QueryObjectsRequest): Promise<Res<typeof pb.QueryObjectsResponseSchema>> {
    return objects.queryObjects(this.#dp, req);
  }

  removeTags(req: pb.RemoveTagsRequest): Promise<Res<typeof pb.RemoveTagsResponseSchema>> {
    return pipelines.removeTags(this.#dp, req);
  }

  reportTaskProgress(req: pb.ReportTaskProgressRequest): Promise<Res<typeof pb.ReportTaskProgressResponseSchema>> {
    return runner.reportTaskProgress(this.#dp, req);
  }

  reportTaskRunnerHeartbeat(req: pb.ReportTaskRunnerHeartbeatRequest): Promise<Res<typeof pb.ReportTaskRunnerHeartbeatResponseSchema>> {
    return runner.reportTaskRunnerHeartbeat(this.#dp, req);
  }

  listTaskRunners(req: pb.ListTaskRunnersRequest): Promise<Res<typeof pb.ListTaskRunnersResponseSchema>> {
    return runner.listTaskRunners(this.#dp, req);
  }

  setStatus(req: pb.SetStatusRequest): Promise<Res<typeof pb.SetStatusResponseSchema>> {
    return objects.setStatus(this.#dp, req);
  }

  setTaskStatus(req: pb.SetTaskStatusRequest): Promise<Res<typeof pb.SetTaskStatusResponseSchema>> {
    return runner.setTaskStatus(this.#dp, req);
  }

  validatePipelineDefinition(req: pb.ValidatePipelineDefinitionRequest): Promise<Res<typeof pb.ValidatePipelineDefinitionResponseSchema>> {
    return definitions.validatePipelineDefinition(this.#dp, req);
  }

  /** Server-streamed tasks of a worker group (PollForTask's members), at most `maxInFlight` without a final status. */
  streamTasks(req: pb.StreamTasksRequest, maxInFlight: number, signal: AbortSignal): AsyncIterable<Res<typeof pb.StreamTasksResponseSchema>[]> {
    return runner.streamTasks(this.#dp, req, maxInFlight, signal);
  }

  respondPipelineTasks(req: pb.RespondPipelineTasksRequest): Promise<Res<typeof pb.RespondPipelineTasksResponseSchema>> {
    return runner.respondPipelineTasks(this.#dp, req);
  }
}
