// The DataPipelineService: every RPC of the generated descriptor bound to the Data Pipeline engine
// method of the same name, validated against the Data Pipeline model (services/bind.ts). The AWS
// JSON route serves it under the model's target prefix, DataPipeline. StreamTasks is bound here:
// its poll operation is PollForTask, which the `Stream<Kind>Tasks` → `PollFor<Kind>Task` naming
// of bind.ts cannot express.
import type { DescService } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { DataPipelineService, PollForTaskRequestSchema, type StreamTasksRequest } from "../../gen/taskgate/datapipeline/v1/service_pb.ts";
import { loadModel } from "../model/model.ts";
import { validateRequest } from "../model/validate.ts";
import { bindService, type EngineOf } from "./bind.ts";
import { maxInFlight, type PollConfig } from "./longpoll.ts";
import type { RegisteredService } from "./registry.ts";

/** What the Data Pipeline service binds: one engine method per RPC (e.g. DataPipelineEngine). */
export type DataPipelineEngineOf = EngineOf<typeof DataPipelineService>;

/** Builds the Data Pipeline service around an engine. */
export function datapipelineService(engine: DataPipelineEngineOf, cfg: PollConfig): RegisteredService {
  const model = loadModel("datapipeline");
  const stream = DataPipelineService.method.streamTasks;
  // Every other RPC through the shared binding; the stream below.
  const rest = { ...DataPipelineService, methods: DataPipelineService.methods.filter((m) => m !== stream) } as DescService;
  const bound = bindService(rest as typeof DataPipelineService, model, engine, cfg);
  const impl = bound.impl as Record<string, unknown>;
  impl[stream.localName] = async function* (req: StreamTasksRequest, ctx: HandlerContext) {
    validateRequest(model, "PollForTask", PollForTaskRequestSchema, req as never);
    for await (const batch of engine.streamTasks(req, maxInFlight(req.maxInFlight), ctx.signal)) for (const task of batch) yield task;
  };
  return { desc: DataPipelineService, impl: impl as RegisteredService["impl"], model };
}
