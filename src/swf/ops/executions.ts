// Execution operations: start, describe, history, signal, request cancel, terminate.
import { fromBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { EventType, HistoryEventSchema } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import { swf, validationError } from "../../faults.ts";
import { checkDuration, priorityString } from "../values.ts";
import { childPolicyName, childPolicyValue, executionInfo, typeLabel } from "../present.ts";
import type { WorkflowTypeConfig } from "../type-config.ts";
import { execution, openExecution, registeredDomain } from "../lookup.ts";
import { applyChildPolicy, close, createExecution } from "../execution.ts";
import { scheduleDecision } from "../decision-task.ts";
import { pageSize, type Res, type Swf } from "../context.ts";
import type * as pb from "../../../gen/taskgate/swf/v1/service_pb.ts";
import * as st from "../../store/swf.ts";

/** StartWorkflowExecution: the request, then the workflow type's defaults, give the execution's configuration. */
export async function startWorkflowExecution(ctx: Swf, req: pb.StartWorkflowExecutionRequest): Promise<Res<typeof pb.StartWorkflowExecutionResponseSchema>> {
  checkDuration(req.executionStartToCloseTimeout, "executionStartToCloseTimeout", false);
  checkDuration(req.taskStartToCloseTimeout, "taskStartToCloseTimeout");
  const priority = priorityString(req.taskPriority, "taskPriority");
  const runId = await ctx.tx(async (uow) => {
    const d = await registeredDomain(uow.sql, req.domain!);
    const t = await st.getType(uow.sql, d.name, "workflow", req.workflowType!.name!, req.workflowType!.version!);
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
    const x = await createExecution(ctx, uow, {
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
    await x.flush(uow.sql, ctx.db.caps);
    return x.row.runId;
  });
  return { runId };
}

/** DescribeWorkflowExecution. */
export async function describeWorkflowExecution(ctx: Swf, req: pb.DescribeWorkflowExecutionRequest): Promise<Res<typeof pb.DescribeWorkflowExecutionResponseSchema>> {
  return ctx.db.tx(async (sql) => {
    const x = await execution(ctx, sql, req.domain!, req.execution!.workflowId!, req.execution!.runId!);
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

/** GetWorkflowExecutionHistory: paged either way by signed page tokens. */
export async function getWorkflowExecutionHistory(ctx: Swf, req: pb.GetWorkflowExecutionHistoryRequest): Promise<Res<typeof pb.GetWorkflowExecutionHistoryResponseSchema>> {
  const limit = pageSize(req.maximumPageSize);
  const reverse = req.reverseOrder ?? false;
  const cursor = req.nextPageToken ? ctx.pages.read<{ k: "h"; r: string; c: number }>(req.nextPageToken, "h") : undefined;
  if (cursor && cursor.r !== req.execution!.runId) throw validationError("The nextPageToken belongs to another workflow execution.");
  return ctx.db.tx(async (sql) => {
    const x = await execution(ctx, sql, req.domain!, req.execution!.workflowId!, req.execution!.runId!);
    const last = x.row.nextEventId - 1;
    const from = reverse ? 1 : (cursor?.c ?? 1);
    const to = reverse ? (cursor?.c ?? last) : last;
    const data = await st.readEvents(sql, x.row.runId, from, to, reverse, limit + 1);
    const events = data.slice(0, limit).map((d) => fromBinary(HistoryEventSchema, d));
    let next: string | undefined;
    if (data.length > limit) {
      const lastId = Number(events[events.length - 1].eventId);
      next = ctx.pages.issue({ k: "h", r: x.row.runId, c: reverse ? lastId - 1 : lastId + 1 });
    }
    return { events, nextPageToken: next };
  });
}

/** SignalWorkflowExecution. */
export async function signalWorkflowExecution(ctx: Swf, req: pb.SignalWorkflowExecutionRequest): Promise<Res<typeof pb.SignalWorkflowExecutionResponseSchema>> {
  await ctx.tx(async (uow) => {
    const x = await openExecution(ctx, uow.sql, req.domain!, req.workflowId!, req.runId);
    x.append({ eventType: EventType.WORKFLOW_EXECUTION_SIGNALED, workflowExecutionSignaledEventAttributes: { signalName: req.signalName, input: req.input } });
    await scheduleDecision(ctx, uow, x);
    await x.flush(uow.sql, ctx.db.caps);
  });
  return {};
}

/** RequestCancelWorkflowExecution: recorded once; later requests change nothing. */
export async function requestCancelWorkflowExecution(ctx: Swf, req: pb.RequestCancelWorkflowExecutionRequest): Promise<Res<typeof pb.RequestCancelWorkflowExecutionResponseSchema>> {
  await ctx.tx(async (uow) => {
    const x = await openExecution(ctx, uow.sql, req.domain!, req.workflowId!, req.runId);
    if (!x.state.cancelRequested) {
      x.state.cancelRequested = true;
      x.append({ eventType: EventType.WORKFLOW_EXECUTION_CANCEL_REQUESTED, workflowExecutionCancelRequestedEventAttributes: {} });
      await scheduleDecision(ctx, uow, x);
    }
    await x.flush(uow.sql, ctx.db.caps);
  });
  return {};
}

/** TerminateWorkflowExecution: closes the execution and applies its child policy. */
export async function terminateWorkflowExecution(ctx: Swf, req: pb.TerminateWorkflowExecutionRequest): Promise<Res<typeof pb.TerminateWorkflowExecutionResponseSchema>> {
  await ctx.tx(async (uow) => {
    const x = await openExecution(ctx, uow.sql, req.domain!, req.workflowId!, req.runId);
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
    await close(ctx, uow, x, "TERMINATED");
    await x.flush(uow.sql, ctx.db.caps);
    await applyChildPolicy(ctx, uow, x.row.runId, childPolicy, x.nowMs);
  });
  return {};
}
