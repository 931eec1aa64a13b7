// The StepFunctionsService: every RPC of the generated descriptor bound to the Step Functions
// engine method of the same name, validated against the Step Functions model (services/bind.ts).
// The AWS JSON route serves it under the model's target prefix, AWSStepFunctions.
//
// StreamActivityTasks is bound here rather than by bindService, whose rule validates a stream
// `Stream<Kind>Tasks` as the SWF-style operation `PollFor<Kind>Task`: Step Functions' poll is
// GetActivityTask, whose members (activityArn, workerName) the stream shares.
import type { DescService, MessageShape } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { GetActivityTaskRequestSchema, StepFunctionsService, type StreamActivityTasksRequest } from "../../gen/taskgate/sfn/v1/service_pb.ts";
import { loadModel } from "../model/model.ts";
import { validateRequest } from "../model/validate.ts";
import { bindService, type EngineOf } from "./bind.ts";
import { maxInFlight, type PollConfig } from "./longpoll.ts";
import type { RegisteredService } from "./registry.ts";

/** The RPC bound here instead of by bindService. */
const streamName = "StreamActivityTasks";

/** Builds the Step Functions service around an engine (any object with one method per RPC, e.g. SfnEngine). */
export function sfnService(engine: EngineOf<typeof StepFunctionsService>, cfg: PollConfig): RegisteredService {
  const model = loadModel("sfn");
  // bindService reads only the method list and the type name of the descriptor it is given.
  const rest = Object.create(StepFunctionsService, { methods: { value: StepFunctionsService.methods.filter((m) => m.name !== streamName) } }) as typeof StepFunctionsService;
  const bound = bindService(rest, model, engine, cfg);
  const impl = bound.impl as unknown as Record<string, unknown>;
  impl.streamActivityTasks = async function* (req: StreamActivityTasksRequest, ctx: HandlerContext) {
    validateRequest(model, "GetActivityTask", GetActivityTaskRequestSchema, req as unknown as MessageShape<typeof GetActivityTaskRequestSchema>);
    // Not `yield* batch`: an error thrown into this generator at a delegated array yield would surface as a TypeError.
    for await (const batch of engine.streamActivityTasks(req, maxInFlight(req.maxInFlight), ctx.signal)) for (const task of batch) yield task;
  };
  return { desc: StepFunctionsService as DescService, impl: impl as ServiceImpl<DescService>, model };
}
