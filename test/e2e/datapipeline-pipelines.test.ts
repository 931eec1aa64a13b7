// Data Pipeline pipelines and definitions through @aws-sdk/client-data-pipeline on both stores:
// CreatePipeline's idempotency, DescribePipelines, ListPipelines paging, tags and their limit,
// Put/Validate/GetPipelineDefinition with errors and warnings in AWS's wording (cases as data),
// EvaluateExpression with examples from AWS's documentation, and the errors of deleted and unknown
// pipelines.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ActivatePipelineCommand,
  AddTagsCommand,
  CreatePipelineCommand,
  DeletePipelineCommand,
  DescribePipelinesCommand,
  EvaluateExpressionCommand,
  GetPipelineDefinitionCommand,
  ListPipelinesCommand,
  PutPipelineDefinitionCommand,
  QueryObjectsCommand,
  RemoveTagsCommand,
  ValidatePipelineDefinitionCommand,
} from "@aws-sdk/client-data-pipeline";
import { loadModel } from "../../src/model/model.ts";
import { stores } from "../helpers/harness.ts";
import { failure, objectsOf, startDp, type ConsoleObject, type DpGate } from "./datapipeline-helpers.ts";

/** The errors the Data Pipeline model lists for an operation. */
function modeled(operation: string): string[] {
  return (loadModel("datapipeline").operations[operation].errors ?? []).map((e) => e.shape);
}

const activity: ConsoleObject = { id: "A", type: "ShellCommandActivity", command: "echo hi", workerGroup: "wg" };
const onDemand: ConsoleObject = { id: "Default", scheduleType: "ondemand" };

/** Broken definitions and the messages each object must get (a message is matched by its start). */
const invalid: { name: string; objects: ConsoleObject[]; errors: Record<string, string[]> }[] = [
  { name: "an unknown type", objects: [onDemand, { id: "X", type: "NoSuchActivity" }], errors: { X: ["INVALID_OBJECT_TYPE:  'type' value 'NoSuchActivity'"] } },
  { name: "a missing required field", objects: [onDemand, { id: "A", type: "ShellCommandActivity", workerGroup: "wg" }], errors: { A: ["MISSING_REQUIRED_FIELD:  Missing required field: one of 'command', 'scriptUri'"] } },
  { name: "a reference to a missing object", objects: [onDemand, { ...activity, dependsOn: { ref: "Nope" } }], errors: { A: ["INVALID_REFERENCE:  Object references invalid id: 'Nope'"] } },
  {
    name: "a dependsOn cycle",
    objects: [onDemand, { ...activity, dependsOn: { ref: "B" } }, { ...activity, id: "B", dependsOn: { ref: "A" } }],
    errors: { A: ["INVALID_FIELD_VALUE:  'dependsOn' references form a cycle"], B: ["INVALID_FIELD_VALUE:  'dependsOn' references form a cycle"] },
  },
  {
    name: "a period under 15 minutes",
    objects: [{ id: "Default", scheduleType: "cron", schedule: { ref: "S" } }, activity, { id: "S", type: "Schedule", period: "5 minutes", startDateTime: "2012-12-12T00:00:00" }],
    errors: { S: ["INVALID_FIELD_VALUE:  'period' value '5 minutes' is shorter than the minimum period of 15 minutes."] },
  },
];

describe.each(stores)("Data Pipeline pipelines and definitions (%s)", (kind) => {
  let tg: DpGate;
  let n = 0;

  beforeAll(async () => {
    tg = await startDp({ kind, longPollSeconds: 0.3 });
  });
  afterAll(async () => {
    await tg?.destroy();
  });

  async function created(): Promise<string> {
    const { pipelineId } = await tg.dp.send(new CreatePipelineCommand({ name: `p${++n}`, uniqueId: `u${n}` }));
    return pipelineId!;
  }

  it("CreatePipeline is idempotent on uniqueId and name; DescribePipelines and ListPipelines show the pipeline", async () => {
    const a = await tg.dp.send(new CreatePipelineCommand({ name: "same", uniqueId: "token-1", description: "first", tags: [{ key: "team", value: "data" }] }));
    const b = await tg.dp.send(new CreatePipelineCommand({ name: "same", uniqueId: "token-1" }));
    const c = await tg.dp.send(new CreatePipelineCommand({ name: "other", uniqueId: "token-1" }));
    expect(a.pipelineId).toMatch(/^df-[0-9A-Z]{19}$/);
    expect(b.pipelineId).toBe(a.pipelineId);
    expect(c.pipelineId).not.toBe(a.pipelineId);
    const d = await tg.dp.send(new DescribePipelinesCommand({ pipelineIds: [a.pipelineId!] }));
    const desc = d.pipelineDescriptionList![0];
    expect(desc).toMatchObject({ pipelineId: a.pipelineId, name: "same", description: "first", tags: [{ key: "team", value: "data" }] });
    const fields = Object.fromEntries(desc.fields!.map((f) => [f.key, f.stringValue]));
    expect(fields).toMatchObject({ "@pipelineState": "PENDING", "@sphere": "PIPELINE", name: "same", uniqueId: "token-1", "@id": a.pipelineId });
    const listed: string[] = [];
    let marker: string | undefined;
    do {
      const r = await tg.dp.send(new ListPipelinesCommand({ marker }));
      listed.push(...(r.pipelineIdList ?? []).map((p) => p.id!));
      marker = r.hasMoreResults ? r.marker : undefined;
    } while (marker);
    expect(listed).toEqual(expect.arrayContaining([a.pipelineId, c.pipelineId]));
  });

  it("tags: AddTags replaces by key, RemoveTags removes, at most 10", async () => {
    const id = await created();
    await tg.dp.send(new AddTagsCommand({ pipelineId: id, tags: [{ key: "a", value: "1" }, { key: "b", value: "2" }] }));
    await tg.dp.send(new AddTagsCommand({ pipelineId: id, tags: [{ key: "a", value: "3" }] }));
    await tg.dp.send(new RemoveTagsCommand({ pipelineId: id, tagKeys: ["b", "never"] }));
    const d = await tg.dp.send(new DescribePipelinesCommand({ pipelineIds: [id] }));
    expect(d.pipelineDescriptionList![0].tags).toEqual([{ key: "a", value: "3" }]);
    const many = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: "v" }));
    const e = await failure(tg.dp.send(new AddTagsCommand({ pipelineId: id, tags: many })));
    expect(e.name).toBe("InvalidRequestException");
    expect(modeled("AddTags")).toContain(e.name);
  });

  it.each(invalid)("PutPipelineDefinition reports $name and does not save the definition", async ({ objects, errors }) => {
    const id = await created();
    const r = await tg.dp.send(new PutPipelineDefinitionCommand({ pipelineId: id, pipelineObjects: objectsOf(objects) }));
    expect(r.errored).toBe(true);
    const got: Record<string, string[]> = Object.fromEntries((r.validationErrors ?? []).map((e) => [e.id, e.errors ?? []]));
    for (const [oid, msgs] of Object.entries(errors)) for (const m of msgs) expect(got[oid]?.some((g: string) => g.startsWith(m)), `${oid}: ${JSON.stringify(got[oid])}`).toBe(true);
    const v = await tg.dp.send(new ValidatePipelineDefinitionCommand({ pipelineId: id, pipelineObjects: objectsOf(objects) }));
    expect(v.errored).toBe(true);
    expect(v.validationErrors).toEqual(r.validationErrors);
    expect((await tg.dp.send(new GetPipelineDefinitionCommand({ pipelineId: id }))).pipelineObjects ?? []).toEqual([]);
    expect((await failure(tg.dp.send(new ActivatePipelineCommand({ pipelineId: id })))).name).toBe("InvalidRequestException");
  });

  it("a definition with FATAL errors is refused with InvalidRequestException; a parameter without value is an error", async () => {
    const id = await created();
    const fatal = await failure(tg.dp.send(new PutPipelineDefinitionCommand({ pipelineId: id, pipelineObjects: [{ id: "A", name: "A", fields: [{ key: "command", stringValue: "" }] }] })));
    expect(fatal.name).toBe("InvalidRequestException");
    expect(fatal.message).toMatch(/^Pipeline definition has errors: Could not save the pipeline definition due to FATAL errors: \[A\]/);
    const r = await tg.dp.send(
      new PutPipelineDefinitionCommand({
        pipelineId: id,
        pipelineObjects: objectsOf([onDemand, { ...activity, command: "echo #{myName}" }]),
        parameterObjects: [{ id: "myName", attributes: [{ key: "type", stringValue: "String" }] }],
      }),
    );
    expect(r.errored).toBe(true);
    expect(JSON.stringify(r.validationErrors)).toContain("MISSING_PARAMETER_VALUE");
  });

  it("warnings do not block: a resource only AWS provisions is named, the definition is saved and GetPipelineDefinition returns it", async () => {
    const id = await created();
    const objects = objectsOf([onDemand, { ...activity, runsOn: { ref: "Ec2" } }, { id: "Ec2", type: "Ec2Resource", role: "r", resourceRole: "rr" }]);
    const r = await tg.dp.send(new PutPipelineDefinitionCommand({ pipelineId: id, pipelineObjects: objects }));
    expect(r.errored).toBe(false);
    expect(JSON.stringify(r.validationWarnings)).toContain("UNSUPPORTED_RESOURCE");
    const latest = await tg.dp.send(new GetPipelineDefinitionCommand({ pipelineId: id }));
    expect(latest.pipelineObjects).toEqual(objects);
    expect((await tg.dp.send(new GetPipelineDefinitionCommand({ pipelineId: id, version: "active" }))).pipelineObjects ?? []).toEqual([]);
    await tg.dp.send(new ActivatePipelineCommand({ pipelineId: id }));
    expect((await tg.dp.send(new GetPipelineDefinitionCommand({ pipelineId: id, version: "active" }))).pipelineObjects).toEqual(objects);
    expect((await failure(tg.dp.send(new GetPipelineDefinitionCommand({ pipelineId: id, version: "v7" })))).name).toBe("InvalidRequestException");
  });

  it("EvaluateExpression: AWS's API example, runtime fields of an instance, parameters, and a bad expression", async () => {
    const id = await created();
    await tg.dp.send(
      new PutPipelineDefinitionCommand({
        pipelineId: id,
        pipelineObjects: objectsOf([
          { id: "Default", scheduleType: "cron", schedule: { ref: "Schedule" }, workerGroup: "wg-eval" },
          { id: "Schedule", type: "Schedule", period: "1 day", startDateTime: "2012-12-12T00:00:00", endDateTime: "2012-12-14T00:00:00" },
          { id: "A", type: "ShellCommandActivity", command: "echo #{myGreeting}" },
        ]),
        parameterObjects: [{ id: "myGreeting", attributes: [{ key: "default", stringValue: "hello" }] }],
      }),
    );
    const ev = async (objectId: string, expression: string) => (await tg.dp.send(new EvaluateExpressionCommand({ pipelineId: id, objectId, expression }))).evaluatedExpression;
    // The example of AWS's EvaluateExpression reference.
    expect(await ev("Schedule", "Transform started at #{startDateTime} and finished at #{endDateTime}")).toBe("Transform started at 2012-12-12T00:00:00 and finished at 2012-12-14T00:00:00");
    expect(await ev("A", "#{command} and #{myGreeting}")).toBe("echo hello and hello");
    await tg.dp.send(new ActivatePipelineCommand({ pipelineId: id }));
    const inst = (await tg.dp.send(new QueryObjectsCommand({ pipelineId: id, sphere: "INSTANCE" }))).ids!;
    expect(inst).toEqual(["@A_2012-12-12T00:00:00", "@A_2012-12-13T00:00:00"]);
    // Nothing matching is "ids": [] on the wire, as AWS answers it (the AWS CLI's list-runs indexes it).
    const none = await fetch(tg.url, {
      method: "POST",
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "DataPipeline.QueryObjects" },
      body: JSON.stringify({ pipelineId: id, sphere: "ATTEMPT", query: { selectors: [{ fieldName: "@status", operator: { type: "EQ", values: ["NO_SUCH_STATUS"] } }] } }),
    });
    expect(await none.json()).toEqual({ ids: [], hasMoreResults: false });
    // The Developer Guide's date functions on @scheduledStartTime.
    expect(await ev(inst[1], "#{format(@scheduledStartTime,'YYYY-MM-dd')}")).toBe("2012-12-13");
    expect(await ev(inst[1], "#{format(minusDays(@scheduledStartTime,1),'YYYY-MM-dd hh:mm:ss')}")).toBe("2012-12-12 12:00:00");
    expect(await ev(inst[1], "s3://bucket/#{format(plusHours(@scheduledEndTime,2),'YYYY-MM-dd-HH')}/")).toBe("s3://bucket/2012-12-14-02/");
    const bad = await failure(tg.dp.send(new EvaluateExpressionCommand({ pipelineId: id, objectId: "A", expression: "#{noSuchFunction(1)}" })));
    expect(bad.name).toBe("InvalidRequestException");
    expect(modeled("EvaluateExpression")).toContain(bad.name);
  });

  it("unknown pipelines answer PipelineNotFoundException, deleted ones PipelineDeletedException", async () => {
    const id = await created();
    await tg.dp.send(new DeletePipelineCommand({ pipelineId: id }));
    const cases: [string, () => Promise<unknown>, string][] = [
      ["DescribePipelines", () => tg.dp.send(new DescribePipelinesCommand({ pipelineIds: [id] })), "PipelineDeletedException"],
      ["PutPipelineDefinition", () => tg.dp.send(new PutPipelineDefinitionCommand({ pipelineId: id, pipelineObjects: objectsOf([onDemand]) })), "PipelineDeletedException"],
      ["ActivatePipeline", () => tg.dp.send(new ActivatePipelineCommand({ pipelineId: id })), "PipelineDeletedException"],
      ["DeletePipeline", () => tg.dp.send(new DeletePipelineCommand({ pipelineId: id })), "PipelineNotFoundException"],
      ["DescribePipelines", () => tg.dp.send(new DescribePipelinesCommand({ pipelineIds: ["df-NOSUCHPIPELINE0000"] })), "PipelineNotFoundException"],
      ["GetPipelineDefinition", () => tg.dp.send(new GetPipelineDefinitionCommand({ pipelineId: "df-NOSUCHPIPELINE0000" })), "PipelineNotFoundException"],
    ];
    for (const [op, call, name] of cases) {
      const e = await failure(call());
      expect(e.name, op).toBe(name);
      expect(modeled(op), op).toContain(name);
    }
    const listed = (await tg.dp.send(new ListPipelinesCommand({}))).pipelineIdList ?? [];
    expect(listed.map((p) => p.id)).not.toContain(id);
  });
});
