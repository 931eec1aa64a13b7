// The SWF engine: a facade with one line per operation. The rules live behind it, one concern
// per file:
// - ops/: the operations by group (domains, types, executions, visibility, decider, activity worker);
// - decisions/: the registry of the 13 decisions, each checked and applied by one rule;
// - decision-task.ts: "at most one open decision task", scheduling, start, timeout, requeue;
// - activity-task.ts: the activity task as a worker-task kind of the dispatch core;
// - execution.ts: creating and closing executions, child policy, the history limit;
// - timers.ts: SWF timer kinds and the execution-level timeouts;
// - present.ts: the wire shapes; lookup.ts: domains and executions by name, with their faults.
// Tasks live in the shared `tasks` table of the dispatch core: activity tasks keyed by activityId,
// the decision task keyed 'decision'. Every timeout is a durable timer row.
import type { ArnScope } from "../resources/arn.ts";
import type * as pb from "../../gen/taskgate/swf/v1/service_pb.ts";
import type { Dispatch, PollOptions } from "../dispatch/index.ts";
import { Swf, type Res } from "./context.ts";
import { registerTimers } from "./timers.ts";
import * as domains from "./ops/domains.ts";
import * as types from "./ops/types.ts";
import * as visibility from "./ops/visibility.ts";
import * as executions from "./ops/executions.ts";
import * as activityWorker from "./ops/activity-worker.ts";
import * as decider from "./ops/decider.ts";

/** The SWF engine of one node. */
export class SwfEngine {
  readonly #swf: Swf;

  /** `maxPollsPerTaskList`: polls and streams held at once per task list on this node (default 1000, AWS's quota). */
  constructor(deps: { core: Dispatch; historyLimit?: number; arnScope?: ArnScope; maxPollsPerTaskList?: number }) {
    const swf = (this.#swf = new Swf(deps.core, deps.historyLimit, deps.arnScope, deps.maxPollsPerTaskList));
    swf.tasks.register(swf.activityTask);
    swf.tasks.register(swf.decisionTask);
    registerTimers(swf);
  }

  /** Loads the page-token secret (created once per database). */
  async init(): Promise<void> {
    await this.#swf.pages.init((key, init) => this.#swf.core.meta(key, init));
  }

  registerDomain(req: pb.RegisterDomainRequest): Promise<Res<typeof pb.RegisterDomainResponseSchema>> {
    return domains.registerDomain(this.#swf, req);
  }

  tagResource(req: pb.TagResourceRequest): Promise<Res<typeof pb.TagResourceResponseSchema>> {
    return domains.tagResource(this.#swf, req);
  }

  untagResource(req: pb.UntagResourceRequest): Promise<Res<typeof pb.UntagResourceResponseSchema>> {
    return domains.untagResource(this.#swf, req);
  }

  listTagsForResource(req: pb.ListTagsForResourceRequest): Promise<Res<typeof pb.ListTagsForResourceResponseSchema>> {
    return domains.listTagsForResource(this.#swf, req);
  }

  describeDomain(req: pb.DescribeDomainRequest): Promise<Res<typeof pb.DescribeDomainResponseSchema>> {
    return domains.describeDomain(this.#swf, req);
  }

  listDomains(req: pb.ListDomainsRequest): Promise<Res<typeof pb.ListDomainsResponseSchema>> {
    return domains.listDomains(this.#swf, req);
  }

  registerWorkflowType(req: pb.RegisterWorkflowTypeRequest): Promise<Res<typeof pb.RegisterWorkflowTypeResponseSchema>> {
    return types.registerWorkflowType(this.#swf, req);
  }

  registerActivityType(req: pb.RegisterActivityTypeRequest): Promise<Res<typeof pb.RegisterActivityTypeResponseSchema>> {
    return types.registerActivityType(this.#swf, req);
  }

  describeWorkflowType(req: pb.DescribeWorkflowTypeRequest): Promise<Res<typeof pb.DescribeWorkflowTypeResponseSchema>> {
    return types.describeWorkflowType(this.#swf, req);
  }

  describeActivityType(req: pb.DescribeActivityTypeRequest): Promise<Res<typeof pb.DescribeActivityTypeResponseSchema>> {
    return types.describeActivityType(this.#swf, req);
  }

  listWorkflowTypes(req: pb.ListWorkflowTypesRequest): Promise<Res<typeof pb.ListWorkflowTypesResponseSchema>> {
    return types.listWorkflowTypes(this.#swf, req);
  }

  listActivityTypes(req: pb.ListActivityTypesRequest): Promise<Res<typeof pb.ListActivityTypesResponseSchema>> {
    return types.listActivityTypes(this.#swf, req);
  }

  deprecateDomain(req: pb.DeprecateDomainRequest): Promise<Res<typeof pb.DeprecateDomainResponseSchema>> {
    return domains.deprecateDomain(this.#swf, req);
  }

  undeprecateDomain(req: pb.UndeprecateDomainRequest): Promise<Res<typeof pb.UndeprecateDomainResponseSchema>> {
    return domains.undeprecateDomain(this.#swf, req);
  }

  deprecateWorkflowType(req: pb.DeprecateWorkflowTypeRequest): Promise<Res<typeof pb.DeprecateWorkflowTypeResponseSchema>> {
    return types.deprecateWorkflowType(this.#swf, req);
  }

  undeprecateWorkflowType(req: pb.UndeprecateWorkflowTypeRequest): Promise<Res<typeof pb.UndeprecateWorkflowTypeResponseSchema>> {
    return types.undeprecateWorkflowType(this.#swf, req);
  }

  deleteWorkflowType(req: pb.DeleteWorkflowTypeRequest): Promise<Res<typeof pb.DeleteWorkflowTypeResponseSchema>> {
    return types.deleteWorkflowType(this.#swf, req);
  }

  deprecateActivityType(req: pb.DeprecateActivityTypeRequest): Promise<Res<typeof pb.DeprecateActivityTypeResponseSchema>> {
    return types.deprecateActivityType(this.#swf, req);
  }

  undeprecateActivityType(req: pb.UndeprecateActivityTypeRequest): Promise<Res<typeof pb.UndeprecateActivityTypeResponseSchema>> {
    return types.undeprecateActivityType(this.#swf, req);
  }

  deleteActivityType(req: pb.DeleteActivityTypeRequest): Promise<Res<typeof pb.DeleteActivityTypeResponseSchema>> {
    return types.deleteActivityType(this.#swf, req);
  }

  listOpenWorkflowExecutions(req: pb.ListOpenWorkflowExecutionsRequest): Promise<Res<typeof pb.ListOpenWorkflowExecutionsResponseSchema>> {
    return visibility.listOpenWorkflowExecutions(this.#swf, req);
  }

  listClosedWorkflowExecutions(req: pb.ListClosedWorkflowExecutionsRequest): Promise<Res<typeof pb.ListClosedWorkflowExecutionsResponseSchema>> {
    return visibility.listClosedWorkflowExecutions(this.#swf, req);
  }

  countOpenWorkflowExecutions(req: pb.CountOpenWorkflowExecutionsRequest): Promise<Res<typeof pb.CountOpenWorkflowExecutionsResponseSchema>> {
    return visibility.countOpenWorkflowExecutions(this.#swf, req);
  }

  countClosedWorkflowExecutions(req: pb.CountClosedWorkflowExecutionsRequest): Promise<Res<typeof pb.CountClosedWorkflowExecutionsResponseSchema>> {
    return visibility.countClosedWorkflowExecutions(this.#swf, req);
  }

  startWorkflowExecution(req: pb.StartWorkflowExecutionRequest): Promise<Res<typeof pb.StartWorkflowExecutionResponseSchema>> {
    return executions.startWorkflowExecution(this.#swf, req);
  }

  describeWorkflowExecution(req: pb.DescribeWorkflowExecutionRequest): Promise<Res<typeof pb.DescribeWorkflowExecutionResponseSchema>> {
    return executions.describeWorkflowExecution(this.#swf, req);
  }

  getWorkflowExecutionHistory(req: pb.GetWorkflowExecutionHistoryRequest): Promise<Res<typeof pb.GetWorkflowExecutionHistoryResponseSchema>> {
    return executions.getWorkflowExecutionHistory(this.#swf, req);
  }

  signalWorkflowExecution(req: pb.SignalWorkflowExecutionRequest): Promise<Res<typeof pb.SignalWorkflowExecutionResponseSchema>> {
    return executions.signalWorkflowExecution(this.#swf, req);
  }

  requestCancelWorkflowExecution(req: pb.RequestCancelWorkflowExecutionRequest): Promise<Res<typeof pb.RequestCancelWorkflowExecutionResponseSchema>> {
    return executions.requestCancelWorkflowExecution(this.#swf, req);
  }

  terminateWorkflowExecution(req: pb.TerminateWorkflowExecutionRequest): Promise<Res<typeof pb.TerminateWorkflowExecutionResponseSchema>> {
    return executions.terminateWorkflowExecution(this.#swf, req);
  }

  countPendingActivityTasks(req: pb.CountPendingActivityTasksRequest): Promise<Res<typeof pb.CountPendingActivityTasksResponseSchema>> {
    return activityWorker.countPendingActivityTasks(this.#swf, req);
  }

  countPendingDecisionTasks(req: pb.CountPendingDecisionTasksRequest): Promise<Res<typeof pb.CountPendingDecisionTasksResponseSchema>> {
    return decider.countPendingDecisionTasks(this.#swf, req);
  }

  pollForDecisionTask(req: pb.PollForDecisionTaskRequest, opts: PollOptions): Promise<Res<typeof pb.PollForDecisionTaskResponseSchema>> {
    return decider.pollForDecisionTask(this.#swf, req, opts);
  }

  streamDecisionTasks(req: pb.StreamDecisionTasksRequest, maxInFlight: number, signal: AbortSignal): AsyncGenerator<Res<typeof pb.StreamDecisionTasksResponseSchema>[]> {
    return decider.streamDecisionTasks(this.#swf, req, maxInFlight, signal);
  }

  respondDecisionTaskCompleted(req: pb.RespondDecisionTaskCompletedRequest): Promise<Res<typeof pb.RespondDecisionTaskCompletedResponseSchema>> {
    return decider.respondDecisionTaskCompleted(this.#swf, req);
  }

  pollForActivityTask(req: pb.PollForActivityTaskRequest, opts: PollOptions): Promise<Res<typeof pb.PollForActivityTaskResponseSchema>> {
    return activityWorker.pollForActivityTask(this.#swf, req, opts);
  }

  streamActivityTasks(req: pb.StreamActivityTasksRequest, maxInFlight: number, signal: AbortSignal): AsyncGenerator<Res<typeof pb.StreamActivityTasksResponseSchema>[]> {
    return activityWorker.streamActivityTasks(this.#swf, req, maxInFlight, signal);
  }

  recordActivityTaskHeartbeat(req: pb.RecordActivityTaskHeartbeatRequest): Promise<Res<typeof pb.RecordActivityTaskHeartbeatResponseSchema>> {
    return activityWorker.recordActivityTaskHeartbeat(this.#swf, req);
  }

  respondActivityTaskCompleted(req: pb.RespondActivityTaskCompletedRequest): Promise<Res<typeof pb.RespondActivityTaskCompletedResponseSchema>> {
    return activityWorker.respondActivityTaskCompleted(this.#swf, req);
  }

  respondActivityTaskFailed(req: pb.RespondActivityTaskFailedRequest): Promise<Res<typeof pb.RespondActivityTaskFailedResponseSchema>> {
    return activityWorker.respondActivityTaskFailed(this.#swf, req);
  }

  respondActivityTaskCanceled(req: pb.RespondActivityTaskCanceledRequest): Promise<Res<typeof pb.RespondActivityTaskCanceledResponseSchema>> {
    return activityWorker.respondActivityTaskCanceled(this.#swf, req);
  }

  respondActivityTasks(req: pb.RespondActivityTasksRequest): Promise<Res<typeof pb.RespondActivityTasksResponseSchema>> {
    return activityWorker.respondActivityTasks(this.#swf, req);
  }
}
