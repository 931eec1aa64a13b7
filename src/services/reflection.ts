// gRPC server reflection (grpc.reflection.v1 and its predecessor v1alpha, which older grpcurl and
// grpc_cli versions call), so grpcurl, buf curl and grpcui work without the .proto files
// (https://github.com/grpc/grpc/blob/master/doc/server-reflection.md).
//
// What it knows: the served services and every file they are built from, transitively (the
// well-known types and taskgate's option extensions included), as the FileDescriptorProtos the
// generated code carries (comments are not part of them). A file answer holds the requested file
// first, then each of its transitive dependencies not yet sent on the same stream (as grpc-go
// does). Symbols are fully-qualified names of services, methods, messages, fields, oneofs, enums,
// enum values (scoped as protobuf scopes them: beside their enum) and extensions. Anything else is
// an error response NOT_FOUND (5) on the stream, which stays open; a request without a question
// is INVALID_ARGUMENT (3). The `host` of a request is ignored (one server, one set of services).
import { toBinary, type DescEnum, type DescExtension, type DescFile, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { ServerReflection as ServerReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.ts";
import { ServerReflection as ServerReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.ts";
import type { RpcService } from "./registry.ts";

/** A reflection request, as v1 and v1alpha both spell it. */
interface ReflectionRequest {
  readonly host: string;
  readonly messageRequest:
    | { readonly case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; readonly value: string }
    | { readonly case: "fileContainingExtension"; readonly value: { readonly containingType: string; readonly extensionNumber: number } }
    | { readonly case: undefined; readonly value?: undefined };
}

/** A reflection response's init shape, the same in v1 and v1alpha. */
interface ReflectionResponse {
  validHost: string;
  originalRequest: { host: string; messageRequest: ReflectionRequest["messageRequest"] };
  messageResponse:
    | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
    | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
    | { case: "listServicesResponse"; value: { service: { name: string }[] } }
    | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };
}

/** gRPC status codes used in error responses. */
const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;

/** The index of what reflection can answer, over a set of services and the files they need. */
export class ReflectionIndex {
  /** Every file, by its path (`taskgate/swf/v1/service.proto`). */
  readonly #files = new Map<string, DescFile>();
  /** The file declaring each fully-qualified symbol. */
  readonly #symbols = new Map<string, DescFile>();
  /** Extensions by extended message, then field number. */
  readonly #extensions = new Map<string, Map<number, DescFile>>();
  /** Every message's full name. */
  readonly #messages = new Set<string>();
  readonly #serviceNames: readonly string[];
  readonly #encoded = new WeakMap<DescFile, Uint8Array>();

  /** Indexes `services` and every file they depend on. */
  constructor(services: readonly DescService[]) {
    this.#serviceNames = [...new Set(services.map((s) => s.typeName))];
    for (const s of services) this.#addFile(s.file);
  }

  /** The served services' full names, in mounting order. */
  services(): readonly string[] {
    return this.#serviceNames;
  }

  /** The file of a path, or undefined. */
  file(path: string): DescFile | undefined {
    return this.#files.get(path);
  }

  /** The file declaring a fully-qualified symbol (a leading dot is allowed), or undefined. */
  fileContainingSymbol(symbol: string): DescFile | undefined {
    return this.#symbols.get(symbol.startsWith(".") ? symbol.slice(1) : symbol);
  }

  /** The file declaring extension `number` of message `extendee`, or undefined. */
  fileContainingExtension(extendee: string, number: number): DescFile | undefined {
    return this.#extensions.get(extendee)?.get(number);
  }

  /** The extension numbers known for message `extendee` (sorted), or undefined when the message is unknown. */
  extensionNumbers(extendee: string): number[] | undefined {
    if (!this.#messages.has(extendee)) return undefined;
    return [...(this.#extensions.get(extendee)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** The serialized FileDescriptorProtos of `file` and its transitive dependencies, `file` first, skipping those in `sent` (which it extends). */
  encode(file: DescFile, sent: Set<string>): Uint8Array[] {
    const out: Uint8Array[] = [];
    const visit = (f: DescFile, requested: boolean): void => {
      const path = f.proto.name;
      if (sent.has(path) && !requested) return;
      sent.add(path);
      let bytes = this.#encoded.get(f);
      if (bytes === undefined) this.#encoded.set(f, (bytes = toBinary(FileDescriptorProtoSchema, f.proto)));
      out.push(bytes);
      for (const d of f.dependencies) visit(d, false);
    };
    visit(file, true);
    return out;
  }

  #addFile(file: DescFile): void {
    if (this.#files.has(file.proto.name)) return;
    this.#files.set(file.proto.name, file);
    for (const d of file.dependencies) this.#addFile(d);
    const pkg = file.proto.package;
    if (pkg !== "") {
      // A package name is a symbol too (grpcurl describes packages); the first file declaring it answers.
      if (!this.#symbols.has(pkg)) this.#symbols.set(pkg, file);
    }
    for (const s of file.services) {
      this.#symbols.set(s.typeName, file);
      for (const m of s.methods) this.#symbols.set(`${s.typeName}.${m.name}`, file);
    }
    for (const m of file.messages) this.#addMessage(file, m);
    for (const e of file.enums) this.#addEnum(file, e);
    for (const x of file.extensions) this.#addExtension(file, x);
  }

  #addMessage(file: DescFile, m: DescMessage): void {
    this.#symbols.set(m.typeName, file);
    this.#messages.add(m.typeName);
    for (const f of m.fields) this.#symbols.set(`${m.typeName}.${f.name}`, file);
    for (const o of m.oneofs) this.#symbols.set(`${m.typeName}.${o.name}`, file);
    for (const n of m.nestedMessages) this.#addMessage(file, n);
    for (const e of m.nestedEnums) this.#addEnum(file, e);
    for (const x of m.nestedExtensions) this.#addExtension(file, x);
  }

  #addEnum(file: DescFile, e: DescEnum): void {
    this.#symbols.set(e.typeName, file);
    const scope = e.typeName.includes(".") ? e.typeName.slice(0, e.typeName.lastIndexOf(".") + 1) : "";
    for (const v of e.values) this.#symbols.set(`${scope}${v.name}`, file);
  }

  #addExtension(file: DescFile, x: DescExtension): void {
    this.#symbols.set(x.typeName, file);
    let byNumber = this.#extensions.get(x.extendee.typeName);
    if (byNumber === undefined) this.#extensions.set(x.extendee.typeName, (byNumber = new Map()));
    byNumber.set(x.number, file);
  }

  /** The answer to one request of a stream; `sent` holds the files already sent on that stream. */
  answer(req: ReflectionRequest, sent: Set<string>): ReflectionResponse {
    const base = { validHost: req.host, originalRequest: { host: req.host, messageRequest: req.messageRequest } };
    const error = (errorCode: number, errorMessage: string): ReflectionResponse => ({ ...base, messageResponse: { case: "errorResponse", value: { errorCode, errorMessage } } });
    const files = (file: DescFile | undefined, what: string): ReflectionResponse =>
      file === undefined ? error(NOT_FOUND, `${what} not found`) : { ...base, messageResponse: { case: "fileDescriptorResponse", value: { fileDescriptorProto: this.encode(file, sent) } } };
    const r = req.messageRequest;
    switch (r.case) {
      case "listServices":
        return { ...base, messageResponse: { case: "listServicesResponse", value: { service: this.#serviceNames.map((name) => ({ name })) } } };
      case "fileByFilename":
        return files(this.file(r.value), `file ${JSON.stringify(r.value)}`);
      case "fileContainingSymbol":
        return files(this.fileContainingSymbol(r.value), `symbol ${JSON.stringify(r.value)}`);
      case "fileContainingExtension":
        return files(this.fileContainingExtension(r.value.containingType, r.value.extensionNumber), `extension ${r.value.extensionNumber} of ${JSON.stringify(r.value.containingType)}`);
      case "allExtensionNumbersOfType": {
        const numbers = this.extensionNumbers(r.value);
        if (numbers === undefined) return error(NOT_FOUND, `message type ${JSON.stringify(r.value)} not found`);
        return { ...base, messageResponse: { case: "allExtensionNumbersResponse", value: { baseTypeName: r.value, extensionNumber: numbers } } };
      }
      default:
        return error(INVALID_ARGUMENT, "the request asks nothing: set one of file_by_filename, file_containing_symbol, file_containing_extension, all_extension_numbers_of_type, list_services");
    }
  }
}

/** The reflection descriptors served, newest first. */
export const REFLECTION_SERVICES: readonly DescService[] = [ServerReflectionV1, ServerReflectionV1alpha];

/**
 * grpc.reflection.v1 and v1alpha over the services `served()` names (read on the first request, so
 * the list may include these two and services mounted after them).
 */
export function reflectionServices(served: () => readonly DescService[]): RpcService[] {
  let index: ReflectionIndex | undefined;
  const info = async function* (reqs: AsyncIterable<ReflectionRequest>): AsyncGenerator<ReflectionResponse> {
    index ??= new ReflectionIndex(served());
    const sent = new Set<string>();
    for await (const req of reqs) yield index.answer(req, sent);
  };
  const v1: ServiceImpl<typeof ServerReflectionV1> = { serverReflectionInfo: info };
  const v1alpha: ServiceImpl<typeof ServerReflectionV1alpha> = { serverReflectionInfo: info };
  return [
    { desc: ServerReflectionV1, impl: v1 as unknown as RpcService["impl"] },
    { desc: ServerReflectionV1alpha, impl: v1alpha as unknown as RpcService["impl"] },
  ];
}
