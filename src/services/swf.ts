// The SimpleWorkflowService implementation: validate each request against the SWF model, call the
// engine, shape the answer. Long polls take their hold time from the method's long_poll_seconds
// option (or the server's override) and hand any task they deliver to the request's Delivery, so
// a task whose answer never reached the worker goes back to its queue.
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { loadModel, type Model } from "../model/model.ts";
import { validateRequest } from "../model/validate.ts";
import type { SwfEngine } from "../swf/engine.ts";
import { maxInFlight, pollOptions, type PollConfig } from "./longpoll.ts";
import type { RegisteredService } from "./registry.ts";

/** Validates a request of `op` against the model (lengths, patterns, ranges, required members, naming rules). */
export function validator(model: Model) {
  return <D extends DescMessage>(op: string, schema: D, req: MessageShape<D>): MessageShape<D> => {
    validateRequest(model, op, schema, req);
    return req;
  };
}

const m = SimpleWorkflowService.method;

/** Builds the SWF service around an engine. */
export function swfService(engine: SwfEngine, cfg: PollConfig): RegisteredService {
  const model = loadModel("swf");
  const v = validator(model);
  const impl: ServiceImpl<typeof SimpleWorkflowService> = {
    registerDomain: (req) => engine.registerDomain(v("RegisterDomain", m.registerDomain.input, req)),
    describeDomain: (req) => engine.describeDomain(v("DescribeDomain", m.describeDomain.input, req)),
    listDomains: (req) => engine.listDomains(v("ListDomains", m.listDomains.input, req)),
    registerWorkflowType: (req) => engine.registerWorkflowType(v("RegisterWorkflowType", m.registerWorkflowType.input, req)),
    describeWorkflowType: (req) => engine.describeWorkflowType(v("DescribeWorkflowType", m.describeWorkflowType.input, req)),
    listWorkflowTypes: (req) => engine.listWorkflowTypes(v("ListWorkflowTypes", m.listWorkflowTypes.input, req)),
    registerActivityType: (req) => engine.registerActivityType(v("RegisterActivityType", m.registerActivityType.input, req)),
    describeActivityType: (req) => engine.describeActivityType(v("DescribeActivityType", m.describeActivityType.input, req)),
    listActivityTypes: (req) => engine.listActivityTypes(v("ListActivityTypes", m.listActivityTypes.input, req)),
    startWorkflowExecution: (req) => engine.startWorkflowExecution(v("StartWorkflowExecution", m.startWorkflowExecution.input, req)),
    describeWorkflowExecution: (req) => engine.describeWorkflowExecution(v("DescribeWorkflowExecution", m.describeWorkflowExecution.input, req)),
    getWorkflowExecutionHistory: (req) => engine.getWorkflowExecutionHistory(v("GetWorkflowExecutionHistory", m.getWorkflowExecutionHistory.input, req)),
    pollForDecisionTask: (req, ctx) => engine.pollForDecisionTask(v("PollForDecisionTask", m.pollForDecisionTask.input, req), pollOptions(m.pollForDecisionTask, ctx, cfg)),
    respondDecisionTaskCompleted: (req) => engine.respondDecisionTaskCompleted(v("RespondDecisionTaskCompleted", m.respondDecisionTaskCompleted.input, req)),
    pollForActivityTask: (req, ctx) => engine.pollForActivityTask(v("PollForActivityTask", m.pollForActivityTask.input, req), pollOptions(m.pollForActivityTask, ctx, cfg)),
    recordActivityTaskHeartbeat: (req) => engine.recordActivityTaskHeartbeat(v("RecordActivityTaskHeartbeat", m.recordActivityTaskHeartbeat.input, req)),
    respondActivityTaskCompleted: (req) => engine.respondActivityTaskCompleted(v("RespondActivityTaskCompleted", m.respondActivityTaskCompleted.input, req)),
    respondActivityTaskFailed: (req) => engine.respondActivityTaskFailed(v("RespondActivityTaskFailed", m.respondActivityTaskFailed.input, req)),
    respondActivityTaskCanceled: (req) => engine.respondActivityTaskCanceled(v("RespondActivityTaskCanceled", m.respondActivityTaskCanceled.input, req)),
    signalWorkflowExecution: (req) => engine.signalWorkflowExecution(v("SignalWorkflowExecution", m.signalWorkflowExecution.input, req)),
    terminateWorkflowExecution: (req) => engine.terminateWorkflowExecution(v("TerminateWorkflowExecution", m.terminateWorkflowExecution.input, req)),
    requestCancelWorkflowExecution: (req) => engine.requestCancelWorkflowExecution(v("RequestCancelWorkflowExecution", m.requestCancelWorkflowExecution.input, req)),
    countPendingActivityTasks: (req) => engine.countPendingActivityTasks(v("CountPendingActivityTasks", m.countPendingActivityTasks.input, req)),
    countPendingDecisionTasks: (req) => engine.countPendingDecisionTasks(v("CountPendingDecisionTasks", m.countPendingDecisionTasks.input, req)),
    deprecateDomain: (req) => engine.deprecateDomain(v("DeprecateDomain", m.deprecateDomain.input, req)),
    undeprecateDomain: (req) => engine.undeprecateDomain(v("UndeprecateDomain", m.undeprecateDomain.input, req)),
    deprecateWorkflowType: (req) => engine.deprecateWorkflowType(v("DeprecateWorkflowType", m.deprecateWorkflowType.input, req)),
    undeprecateWorkflowType: (req) => engine.undeprecateWorkflowType(v("UndeprecateWorkflowType", m.undeprecateWorkflowType.input, req)),
    deleteWorkflowType: (req) => engine.deleteWorkflowType(v("DeleteWorkflowType", m.deleteWorkflowType.input, req)),
    deprecateActivityType: (req) => engine.deprecateActivityType(v("DeprecateActivityType", m.deprecateActivityType.input, req)),
    undeprecateActivityType: (req) => engine.undeprecateActivityType(v("UndeprecateActivityType", m.undeprecateActivityType.input, req)),
    deleteActivityType: (req) => engine.deleteActivityType(v("DeleteActivityType", m.deleteActivityType.input, req)),
    listOpenWorkflowExecutions: (req) => engine.listOpenWorkflowExecutions(v("ListOpenWorkflowExecutions", m.listOpenWorkflowExecutions.input, req)),
    listClosedWorkflowExecutions: (req) => engine.listClosedWorkflowExecutions(v("ListClosedWorkflowExecutions", m.listClosedWorkflowExecutions.input, req)),
    countOpenWorkflowExecutions: (req) => engine.countOpenWorkflowExecutions(v("CountOpenWorkflowExecutions", m.countOpenWorkflowExecutions.input, req)),
    tagResource: (req) => engine.tagResource(v("TagResource", m.tagResource.input, req)),
    untagResource: (req) => engine.untagResource(v("UntagResource", m.untagResource.input, req)),
    listTagsForResource: (req) => engine.listTagsForResource(v("ListTagsForResource", m.listTagsForResource.input, req)),
    countClosedWorkflowExecutions: (req) => engine.countClosedWorkflowExecutions(v("CountClosedWorkflowExecutions", m.countClosedWorkflowExecutions.input, req)),
    async *streamActivityTasks(req, ctx) {
      // Streams are taskgate's own: the same members and rules as PollForActivityTask.
      v("PollForActivityTask", m.pollForActivityTask.input, req as unknown as MessageShape<typeof m.pollForActivityTask.input>);
      for await (const batch of engine.streamActivityTasks(req, maxInFlight(req.maxInFlight), ctx.signal)) yield* batch;
    },
    async *streamDecisionTasks(req, ctx) {
      v("PollForDecisionTask", m.pollForDecisionTask.input, req as unknown as MessageShape<typeof m.pollForDecisionTask.input>);
      yield* engine.streamDecisionTasks(req, maxInFlight(req.maxInFlight), ctx.signal);
    },
  };
  return { desc: SimpleWorkflowService, impl: impl as RegisteredService["impl"], model };
}
