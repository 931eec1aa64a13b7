// The SimpleWorkflowService: every RPC of the generated descriptor bound to the SWF engine method
// of the same name, validated against the SWF model (services/bind.ts).
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { loadModel } from "../model/model.ts";
import type { SwfEngine } from "../swf/engine.ts";
import { bindService } from "./bind.ts";
import type { PollConfig } from "./longpoll.ts";
import type { RegisteredService } from "./registry.ts";

/** Builds the SWF service around an engine. */
export function swfService(engine: SwfEngine, cfg: PollConfig): RegisteredService {
  return bindService(SimpleWorkflowService, loadModel("swf"), engine, cfg);
}
