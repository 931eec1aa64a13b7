// What the server registers: each protobuf service with its implementation and its AWS model.
import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Model } from "../model/model.ts";

/** One service as the server mounts it: Connect/gRPC routes from `desc`, the AWS JSON route from `model`. */
export interface RegisteredService {
  /** The generated service descriptor. */
  readonly desc: DescService;
  /** The implementation of every method of `desc`. */
  readonly impl: ServiceImpl<DescService>;
  /** The AWS model the service mirrors (target prefix, JSON version, shapes, errors). */
  readonly model: Model;
}
