// What the server registers: each protobuf service with its implementation and its AWS model, and
// the services of the RPC routes alone (gRPC health, server reflection), which have no AWS model.
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

/** A service served on the Connect/gRPC/gRPC-Web routes only, never on the AWS JSON route (it has no AWS model). */
export interface RpcService {
  /** The generated service descriptor. */
  readonly desc: DescService;
  /** The implementation of every method of `desc`. */
  readonly impl: ServiceImpl<DescService>;
}

/** Anything the server mounts: a service of an AWS API, or one of the RPC routes alone. */
export type MountedService = RegisteredService | RpcService;

/** The services of `services` that mirror an AWS API (served on the AWS JSON route too), in order. */
export function awsServices(services: readonly MountedService[]): RegisteredService[] {
  return services.filter((s): s is RegisteredService => "model" in s && s.model !== undefined);
}
