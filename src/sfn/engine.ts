// The Step Functions engine: a facade with one line per operation of StepFunctionsService. The
// rules live behind it, one concern per file:
// - ops/activities.ts: CreateActivity, DescribeActivity, ListActivities, DeleteActivity;
// - ops/state-machines.ts: the state machine operations, ValidateStateMachineDefinition, and the
//   tags of activities and state machines;
// - present.ts: the wire shapes and the rules of wire values (names, tags, configurations).
// Executions and activity workers (StartExecution … SendTaskHeartbeat) come with the state
// machine interpreter; until then their methods answer a modeled error saying so (notYet below).
import type * as pb from "../../gen/taskgate/sfn/v1/service_pb.ts";
import type { Clock, Dispatch, PollOptions, UnitOfWork } from "../dispatch/index.ts";
import type { Database } from "../store/db.ts";
import { arnScope, parseStatesArn, type ArnScope } from "../resources/arn.ts";
import { PageTokens } from "../resources/page-token.ts";
import { sfn } from "../faults.ts";
import type { Res } from "./present.ts";
import * as activities from "./ops/activities.ts";
import * as machines from "./ops/state-machines.ts";

/** What every Step Functions operation shares. */
export interface Sfn {
  readonly db: Database;
  readonly clock: Clock;
  readonly pages: PageTokens;
  /** The region and account of every ARN this engine issues and accepts as its own. */
  readonly scope: ArnScope;
  /** A fresh unique id (revision ids); injected so the engine stays free of node:crypto. */
  readonly newId: () => string;
  /** One transaction through a unit of work: its outbox applies after commit. */
  tx<R>(fn: (uow: UnitOfWork) => Promise<R>): Promise<R>;
}

/** What the Step Functions engine needs: the dispatch core, the ARN region and account, an id source. */
export interface SfnDeps {
  readonly core: Dispatch;
  /** AWS region of the ARNs (config `--region`). */
  readonly region: string;
  /** 12-digit AWS account id of the ARNs (config `--account-id`). */
  readonly accountId: string;
  /** A fresh unique id on every call (e.g. crypto.randomUUID). */
  readonly newId: () => string;
}

/** The modeled error an operation of the execution phase answers until executions run. */
function notYet(operation: string, fault: (message: string) => Error): Promise<never> {
  return Promise.reject(fault(`${operation} is not supported by taskgate yet: Step Functions executions and activity workers are not served until the state machine interpreter lands.`));
}

/** The Step Functions engine of one node. */
export class SfnEngine {
  readonly #sfn: Sfn;
  readonly #core: Dispatch;

  constructor(deps: SfnDeps) {
    const core = (this.#core = deps.core);
    this.#sfn = {
      db: core.db,
      clock: core.clock,
      pages: new PageTokens(core.clock),
      scope: arnScope(deps.region, deps.accountId),
      newId: deps.newId,
      tx: (fn) => core.units.run(fn),
    };
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
    return machines.deleteStateMachine(this.#sfn, req);
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

  // ---- the execution phase: modeled errors until executions run ----

  /** Not served yet: ActivityWorkerLimitExceeded (no worker may poll while no execution runs). */
  async getActivityTask(req: pb.GetActivityTaskRequest, _poll: PollOptions): Promise<Res<typeof pb.GetActivityTaskResponseSchema>> {
    parseStatesArn(req.activityArn!, "activity");
    return await notYet("GetActivityTask", sfn.activityWorkerLimitExceeded);
  }

  /** Not served yet: TaskDoesNotExist (no execution runs, so no task token is valid). */
  async sendTaskSuccess(_req: pb.SendTaskSuccessRequest): Promise<Res<typeof pb.SendTaskSuccessResponseSchema>> {
    return await notYet("SendTaskSuccess", sfn.taskDoesNotExist);
  }

  /** Not served yet: TaskDoesNotExist. */
  async sendTaskFailure(_req: pb.SendTaskFailureRequest): Promise<Res<typeof pb.SendTaskFailureResponseSchema>> {
    return await notYet("SendTaskFailure", sfn.taskDoesNotExist);
  }

  /** Not served yet: TaskDoesNotExist. */
  async sendTaskHeartbeat(_req: pb.SendTaskHeartbeatRequest): Promise<Res<typeof pb.SendTaskHeartbeatResponseSchema>> {
    return await notYet("SendTaskHeartbeat", sfn.taskDoesNotExist);
  }

  /** Not served yet: ValidationException. */
  async startExecution(req: pb.StartExecutionRequest): Promise<Res<typeof pb.StartExecutionResponseSchema>> {
    parseStatesArn(req.stateMachineArn!, "stateMachine");
    return await notYet("StartExecution", sfn.validation);
  }

  /** Not served yet: ExecutionDoesNotExist (no execution exists). */
  async describeExecution(req: pb.DescribeExecutionRequest): Promise<Res<typeof pb.DescribeExecutionResponseSchema>> {
    parseStatesArn(req.executionArn!, "execution");
    return await notYet("DescribeExecution", sfn.executionDoesNotExist);
  }

  /** Not served yet: ExecutionDoesNotExist. */
  async stopExecution(req: pb.StopExecutionRequest): Promise<Res<typeof pb.StopExecutionResponseSchema>> {
    parseStatesArn(req.executionArn!, "execution");
    return await notYet("StopExecution", sfn.executionDoesNotExist);
  }

  /** Not served yet: ValidationException. */
  async listExecutions(_req: pb.ListExecutionsRequest): Promise<Res<typeof pb.ListExecutionsResponseSchema>> {
    return await notYet("ListExecutions", sfn.validation);
  }

  /** Not served yet: ExecutionDoesNotExist. */
  async getExecutionHistory(req: pb.GetExecutionHistoryRequest): Promise<Res<typeof pb.GetExecutionHistoryResponseSchema>> {
    parseStatesArn(req.executionArn!, "execution");
    return await notYet("GetExecutionHistory", sfn.executionDoesNotExist);
  }

  /** Not served yet: ExecutionDoesNotExist. */
  async describeStateMachineForExecution(req: pb.DescribeStateMachineForExecutionRequest): Promise<Res<typeof pb.DescribeStateMachineForExecutionResponseSchema>> {
    parseStatesArn(req.executionArn!, "execution");
    return await notYet("DescribeStateMachineForExecution", sfn.executionDoesNotExist);
  }
}
