// What the Step Functions execution suites share: an SDK client for a running taskgate, a Connect
// client, the failure of a call, and small definitions.
import { SFNClient, CreateActivityCommand, CreateStateMachineCommand, GetExecutionHistoryCommand, DescribeExecutionCommand, type HistoryEvent } from "@aws-sdk/client-sfn";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { StepFunctionsService } from "../../gen/taskgate/sfn/v1/service_pb.ts";
import { eventually } from "../helpers/eventually.ts";

/** The region and account the suites configure. */
export const region = "us-east-1";
export const account = "000000000000";
export const prefix = `arn:aws:states:${region}:${account}`;
export const role = `arn:aws:iam::${account}:role/taskgate-test`;

/** An SDK client of the server at `url` (one attempt, a socket timeout past every hold time). */
export function sfnClient(url: string): SFNClient {
  return new SFNClient({
    endpoint: url,
    region,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ requestTimeout: 20_000 }),
  });
}

/** A Connect client of the server at `url`. */
export function connectClient(url: string): Client<typeof StepFunctionsService> {
  return createClient(StepFunctionsService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" }));
}

/** The error a call fails with: its name and message. */
export async function failure(p: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error;
    return { name: err.name, message: err.message };
  }
  throw new Error("expected the call to fail");
}

/** Creates an activity and a state machine of `definition` (a function of the activity ARN); both ARNs. */
export async function machineWith(sfn: SFNClient, name: string, definition: (activityArn: string) => object): Promise<{ activityArn: string; stateMachineArn: string }> {
  const { activityArn } = await sfn.send(new CreateActivityCommand({ name }));
  const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name, definition: JSON.stringify(definition(activityArn!)), roleArn: role }));
  return { activityArn: activityArn!, stateMachineArn: stateMachineArn! };
}

/** Waits until an execution is no longer RUNNING; its description. */
export async function closed(sfn: SFNClient, executionArn: string, limitMs = 10_000) {
  return eventually(async () => {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status === "RUNNING") throw new Error(`${executionArn} still running`);
    return d;
  }, limitMs);
}

/** Every history event of an execution, oldest first. */
export async function historyOf(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const out: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const r = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    out.push(...(r.events ?? []));
    nextToken = r.nextToken;
  } while (nextToken);
  return out;
}

/** The types of history events, in order. */
export function types(events: readonly HistoryEvent[]): string[] {
  return events.map((e) => e.type!);
}
