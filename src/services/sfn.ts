// The StepFunctionsService: every RPC of the generated descriptor bound to the Step Functions
// engine method of the same name, validated against the Step Functions model (services/bind.ts).
// The AWS JSON route serves it under the model's target prefix, AWSStepFunctions.
import { StepFunctionsService } from "../../gen/taskgate/sfn/v1/service_pb.ts";
import { loadModel } from "../model/model.ts";
import { bindService, type EngineOf } from "./bind.ts";
import type { PollConfig } from "./longpoll.ts";
import type { RegisteredService } from "./registry.ts";

/** Builds the Step Functions service around an engine (any object with one method per RPC, e.g. SfnEngine). */
export function sfnService(engine: EngineOf<typeof StepFunctionsService>, cfg: PollConfig): RegisteredService {
  return bindService(StepFunctionsService, loadModel("sfn"), engine, cfg);
}
