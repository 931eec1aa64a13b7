// Shared SWF fixtures for end-to-end tests: a domain with one workflow type and one activity type.
import {
  RegisterActivityTypeCommand,
  RegisterDomainCommand,
  RegisterWorkflowTypeCommand,
  StartWorkflowExecutionCommand,
  type SWFClient,
} from "@aws-sdk/client-swf";
import type { Client } from "@connectrpc/connect";
import type { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { ChildPolicy, DecisionType } from "../../gen/taskgate/swf/v1/types_pb.ts";

/** Names used by `setupDomain`. */
export interface Fixture {
  domain: string;
  workflowType: { name: string; version: string };
  activityType: { name: string; version: string };
  decisionList: string;
  activityList: string;
}

let n = 0;

/** Registers a fresh domain with a workflow type and an activity type whose defaults are all set. */
export async function setupDomain(swf: SWFClient, opts: { activityTimeouts?: Partial<Record<"startToClose" | "heartbeat" | "scheduleToStart" | "scheduleToClose", string>>; taskTimeout?: string } = {}): Promise<Fixture> {
  const id = `${process.pid}-${++n}-${Math.random().toString(36).slice(2, 8)}`;
  const f: Fixture = {
    domain: `dom-${id}`,
    workflowType: { name: "order", version: "1" },
    activityType: { name: "charge", version: "1" },
    decisionList: `deciders-${id}`,
    activityList: `workers-${id}`,
  };
  await swf.send(new RegisterDomainCommand({ name: f.domain, workflowExecutionRetentionPeriodInDays: "1" }));
  await swf.send(
    new RegisterWorkflowTypeCommand({
      domain: f.domain,
      ...f.workflowType,
      defaultTaskList: { name: f.decisionList },
      defaultExecutionStartToCloseTimeout: "3600",
      defaultTaskStartToCloseTimeout: opts.taskTimeout ?? "600",
      defaultChildPolicy: "TERMINATE",
    }),
  );
  await swf.send(
    new RegisterActivityTypeCommand({
      domain: f.domain,
      ...f.activityType,
      defaultTaskList: { name: f.activityList },
      defaultTaskStartToCloseTimeout: opts.activityTimeouts?.startToClose ?? "NONE",
      defaultTaskHeartbeatTimeout: opts.activityTimeouts?.heartbeat ?? "NONE",
      defaultTaskScheduleToStartTimeout: opts.activityTimeouts?.scheduleToStart ?? "NONE",
      defaultTaskScheduleToCloseTimeout: opts.activityTimeouts?.scheduleToClose ?? "NONE",
    }),
  );
  return f;
}

/** Starts an execution of the fixture's workflow type; returns its runId. */
export async function start(swf: SWFClient, f: Fixture, workflowId: string, input?: string): Promise<string> {
  const r = await swf.send(new StartWorkflowExecutionCommand({ domain: f.domain, workflowId, workflowType: f.workflowType, input }));
  return r.runId!;
}

let m = 0;

/**
 * Registers a fresh domain through a Connect client: workflow type `wf`/`1` (decision task list
 * `d`) and activity type `act`/`1` (task list `a`, every timeout NONE). Returns the domain name.
 */
export async function connectFixture(c: Client<typeof SimpleWorkflowService>, prefix: string): Promise<string> {
  const domain = `${prefix}-${process.pid}-${++m}-${Math.random().toString(36).slice(2, 8)}`;
  await c.registerDomain({ name: domain, workflowExecutionRetentionPeriodInDays: "1" });
  await c.registerWorkflowType({
    domain,
    name: "wf",
    version: "1",
    defaultTaskList: { name: "d" },
    defaultExecutionStartToCloseTimeout: "3600",
    defaultTaskStartToCloseTimeout: "600",
    defaultChildPolicy: ChildPolicy.TERMINATE,
  });
  await c.registerActivityType({
    domain,
    name: "act",
    version: "1",
    defaultTaskList: { name: "a" },
    defaultTaskScheduleToCloseTimeout: "NONE",
    defaultTaskScheduleToStartTimeout: "NONE",
    defaultTaskStartToCloseTimeout: "NONE",
    defaultTaskHeartbeatTimeout: "NONE",
  });
  return domain;
}

/**
 * Starts an execution of `wf`/`1` in a `connectFixture` domain and answers its first decision
 * task with `count` ScheduleActivityTask decisions (activity ids `<workflowId>-<i>`, `input` on
 * each). Returns the run id.
 */
export async function scheduleActivities(c: Client<typeof SimpleWorkflowService>, domain: string, workflowId: string, count: number, input?: string): Promise<string> {
  const { runId } = await c.startWorkflowExecution({ domain, workflowId, workflowType: { name: "wf", version: "1" } });
  const d = await c.pollForDecisionTask({ domain, taskList: { name: "d" } });
  await c.respondDecisionTaskCompleted({
    taskToken: d.taskToken,
    decisions: Array.from({ length: count }, (_, i) => ({
      decisionType: DecisionType.SCHEDULE_ACTIVITY_TASK,
      scheduleActivityTaskDecisionAttributes: { activityId: `${workflowId}-${i}`, activityType: { name: "act", version: "1" }, input },
    })),
  });
  return runId!;
}
