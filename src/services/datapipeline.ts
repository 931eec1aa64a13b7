// The DataPipelineService: every RPC of the generated descriptor bound to the Data Pipeline engine
// method of the same name, validated against the Data Pipeline model (services/bind.ts). The AWS
// JSON route serves it under the model's target prefix, DataPipeline.
import { DataPipelineService } from "../../gen/taskgate/datapipeline/v1/service_pb.ts";
import { loadModel } from "../model/model.ts";
import { bindService, type EngineOf } from "./bind.ts";
import type { PollConfig } from "./longpoll.ts";
import type { RegisteredService } from "./registry.ts";

/** What the Data Pipeline service binds: one engine method per RPC (e.g. DataPipelineEngine). */
export type DataPipelineEngineOf = EngineOf<typeof DataPipelineService>;

/** Builds the Data Pipeline service around an engine. */
export function datapipelineService(engine: DataPipelineEngineOf, cfg: PollConfig): RegisteredService {
  return bindService(DataPipelineService, loadModel("datapipeline"), engine, cfg);
}
