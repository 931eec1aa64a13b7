// Writes the protobuf contracts of one AWS service from its botocore model (models/*.json).
//
//   node scripts/protogen.ts            regenerates every service listed in scripts/protogen.json
//
// The model is the contract for names, types, limits and documentation, so the .proto files are
// derived from it rather than typed by hand: every operation listed in protogen.json becomes an RPC
// `<Op>(<Op>Request) returns (<Op>Response)` whose fields are the input and output members, every
// structure reachable from them becomes a message, every enum a proto enum. Field numbers follow the
// model's member order; the generated files are committed and `buf breaking` guards them.
//
// Mapping (the AWS JSON adapter in src/awsjson relies on it):
//   member `taskList`            -> field `task_list` whose JSON name is `taskList` (json_name set
//                                   explicitly only where proto's default would differ)
//   string/long/integer/boolean  -> optional string/int64/int32/bool (explicit presence: AWS
//                                   distinguishes an absent member from 0 or "")
//   timestamp                    -> google.protobuf.Timestamp
//   enum shape `EventType`       -> enum EventType { EVENT_TYPE_UNSPECIFIED = 0;
//                                   EVENT_TYPE_WORKFLOW_EXECUTION_STARTED = 1; ... } (model order)
//   list / map                   -> repeated / map<string, V>
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { protoEnumValueName, screaming, snake } from "../src/model/names.ts";

interface ModelMember {
  shape: string;
  documentation?: string;
  jsonvalue?: boolean;
}
interface ModelShape {
  type: string;
  members?: Record<string, ModelMember>;
  required?: string[];
  member?: ModelMember;
  key?: ModelMember;
  value?: ModelMember;
  enum?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  documentation?: string;
  exception?: boolean;
}
interface Model {
  metadata: { targetPrefix: string; serviceFullName: string };
  operations: Record<string, { input?: { shape: string }; output?: { shape: string }; documentation?: string }>;
  shapes: Record<string, ModelShape>;
}
interface ServiceSpec {
  model: string;
  package: string;
  dir: string;
  service: string;
  operations: string[];
  longPollSeconds: Record<string, number>;
  readOnly: string[];
  extraServiceProto?: string;
  extraMessagesProto?: string;
}

const root = join(dirname(new URL(import.meta.url).pathname), "..");
const specs = JSON.parse(readFileSync(join(root, "scripts/protogen.json"), "utf8")) as ServiceSpec[];

/** protoc's default JSON name of a snake_case field. */
function protoJsonName(field: string): string {
  return field.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}
function docText(html: string | undefined): string {
  if (!html) return "";
  return html
    .replace(/<li>/g, "\n- ")
    .replace(/<\/p>\s*<p>/g, "\n\n")
    .replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/&quot;/g, '"')
    .replace(/[ \t]+/g, " ")
    .replace(/\n /g, "\n")
    .trim();
}

/** First letter upper-cased: "swf" -> "Swf". */
function title(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/**
 * The file options every language's generator reads, for a package `taskgate.<name>.v<N>`, as
 * buf's style guide (managed mode's defaults) recommends: the same values in every file of a
 * package (buf lint's PACKAGE_SAME_* rules), so the generated code of one package lands in one
 * namespace of each language.
 *
 * - go_package: `taskgate/gen/go/<proto directory>;<name>v<N>` — the import path Go code gets when
 *   generated with `paths=source_relative` into `gen/go` of a module or GOPATH root named
 *   `taskgate` (examples/go does so); another layout overrides it with buf's managed mode
 *   (`go_package_prefix`), as any consumer of published protos does.
 * - java_package `com.taskgate.<name>.v<N>`, java_multiple_files, java_outer_classname
 *   `<File>Proto`; csharp_namespace, php_namespace, ruby_package: the package's components
 *   capitalized, joined by each language's separator.
 * - objc_class_prefix: "T" and the first two letters of `<name>` (TSW, TSF, TDA, TCO). buf's
 *   default, the initials without the version, would give swf and sfn the same TSX, and both
 *   define ListTagsForResourceRequest, among others.
 * - swift_prefix: swift-protobuf's own default spelled out (`Taskgate_Swf_V1_`), unique per
 *   package.
 */
function languageOptions(pkg: string, file: string): string {
  const parts = pkg.split(".");
  if (parts.length !== 3 || parts[0] !== "taskgate" || !/^v[0-9]+$/.test(parts[2])) {
    throw new Error(`package ${pkg} is not taskgate.<name>.v<N>`);
  }
  const [, name, version] = parts;
  const caps = parts.map(title);
  const objc = `T${name.slice(0, 2).toUpperCase()}`;
  const outer = file.replace(/\.proto$/, "").split("_").map(title).join("") + "Proto";
  return [
    `option csharp_namespace = "${caps.join(".")}";`,
    `option go_package = "taskgate/gen/go/${parts.join("/")};${name}${version}";`,
    `option java_multiple_files = true;`,
    `option java_outer_classname = "${outer}";`,
    `option java_package = "com.${pkg}";`,
    `option objc_class_prefix = "${objc}";`,
    `option php_namespace = "${caps.join("\\\\")}";`,
    `option ruby_package = "${caps.join("::")}";`,
    `option swift_prefix = "${caps.join("_")}_";`,
  ].join("\n") + "\n";
}

function comment(text: string, indent: string): string {
  const out: string[] = [];
  for (const para of text.split("\n")) {
    const words = para.split(" ").filter((w) => w.length > 0);
    if (words.length === 0) {
      if (out.length > 0 && out[out.length - 1] !== `${indent}//`) out.push(`${indent}//`);
      continue;
    }
    let line = "";
    for (const w of words) {
      if (line.length > 0 && line.length + 1 + w.length > 96 - indent.length) {
        out.push(`${indent}// ${line}`);
        line = w;
      } else line = line.length > 0 ? `${line} ${w}` : w;
    }
    if (line.length > 0) out.push(`${indent}// ${line}`);
  }
  while (out.length > 0 && out[out.length - 1] === `${indent}//`) out.pop();
  return out.length > 0 ? out.join("\n") + "\n" : "";
}

function constraintText(model: Model, member: ModelMember, required: boolean): string {
  const s = model.shapes[member.shape];
  const parts: string[] = [];
  if (required) parts.push("Required.");
  if (s.type === "string" && !s.enum) {
    if (s.min !== undefined && s.max !== undefined) parts.push(`Length ${s.min} to ${s.max}.`);
    else if (s.max !== undefined) parts.push(`At most ${s.max} characters.`);
    else if (s.min !== undefined) parts.push(`At least ${s.min} characters.`);
    if (s.pattern) parts.push(`Pattern: ${s.pattern}`);
  } else if (s.type === "integer" || s.type === "long") {
    if (s.min !== undefined) parts.push(`Minimum ${s.min}.`);
    if (s.max !== undefined) parts.push(`Maximum ${s.max}.`);
  } else if (s.type === "list") {
    if (s.min !== undefined) parts.push(`At least ${s.min} items.`);
    if (s.max !== undefined) parts.push(`At most ${s.max} items.`);
  }
  return parts.join(" ");
}

function generate(spec: ServiceSpec): void {
  const model = JSON.parse(readFileSync(join(root, spec.model), "utf8")) as Model;
  const shapes = model.shapes;
  const messages = new Map<string, string>(); // shape name -> proto text
  const enums = new Map<string, string>();
  const seenValues = new Set<string>();

  const typeOf = (member: ModelMember): { type: string; scalar: boolean; repeated: boolean } => {
    const s = shapes[member.shape];
    switch (s.type) {
      case "string":
        if (s.enum) {
          addEnum(member.shape);
          return { type: member.shape, scalar: false, repeated: false };
        }
        return { type: "string", scalar: true, repeated: false };
      case "long":
        return { type: "int64", scalar: true, repeated: false };
      case "integer":
        return { type: "int32", scalar: true, repeated: false };
      case "boolean":
        return { type: "bool", scalar: true, repeated: false };
      case "double":
        return { type: "double", scalar: true, repeated: false };
      case "float":
        return { type: "float", scalar: true, repeated: false };
      case "blob":
        return { type: "bytes", scalar: true, repeated: false };
      case "timestamp":
        return { type: "google.protobuf.Timestamp", scalar: false, repeated: false };
      case "structure":
        addMessage(member.shape, member.shape);
        return { type: member.shape, scalar: false, repeated: false };
      case "list": {
        const inner = typeOf(s.member!);
        return { type: inner.type, scalar: false, repeated: true };
      }
      case "map": {
        const v = typeOf(s.value!);
        // A map value cannot be repeated in proto: a list value becomes a message named after
        // the list shape whose one field `values` holds the items (Step Functions'
        // variableReferences: map<string, VariableNameList>).
        if (v.repeated) {
          addListMessage(s.value!.shape, v.type);
          return { type: `map<string, ${s.value!.shape}>`, scalar: false, repeated: false };
        }
        return { type: `map<string, ${v.type}>`, scalar: false, repeated: false };
      }
      default:
        throw new Error(`unsupported shape type ${s.type} (${member.shape})`);
    }
  };

  function addEnum(name: string): void {
    if (enums.has(name)) return;
    const s = shapes[name];
    const prefix = screaming(name);
    let text = comment(docText(s.documentation) || `AWS enum ${name}.`, "");
    text += `enum ${name} {\n  // Absent.\n  ${prefix}_UNSPECIFIED = 0;\n`;
    s.enum!.forEach((v, i) => {
      const value = protoEnumValueName(name, v);
      if (seenValues.has(value)) throw new Error(`enum value collision: ${value}`);
      seenValues.add(value);
      text += `  // AWS: "${v}".\n  ${value} = ${i + 1};\n`;
    });
    text += "}\n";
    enums.set(name, text);
  }

  function addListMessage(listShape: string, itemType: string): void {
    if (messages.has(listShape)) return;
    const doc = docText(shapes[listShape].documentation) || `AWS list ${listShape}, as a map value.`;
    const text = comment(`${doc}\n\nA map value that is a list in the AWS model; its items are \`values\`.`, "") +
      `message ${listShape} {\n  // The items of the list.\n  repeated ${itemType} values = 1;\n}\n`;
    messages.set(listShape, text);
  }

  function fieldsOf(shapeName: string | undefined): string {
    if (!shapeName) return "";
    const s = shapes[shapeName];
    const required = new Set(s.required ?? []);
    let text = "";
    let n = 1;
    for (const [name, member] of Object.entries(s.members ?? {})) {
      const t = typeOf(member);
      const field = snake(name);
      const doc = [docText(member.documentation), constraintText(model, member, required.has(name))]
        .filter((x) => x.length > 0)
        .join("\n\n");
      text += comment(doc || `AWS member ${name}.`, "  ");
      const label = t.repeated ? "repeated " : t.scalar ? "optional " : "";
      const jsonOpt = protoJsonName(field) === name ? "" : ` [json_name = "${name}"]`;
      text += `  ${label}${t.type} ${field} = ${n}${jsonOpt};\n`;
      n++;
    }
    return text;
  }

  function addMessage(shapeName: string, messageName: string, docOverride?: string, extra = ""): void {
    if (messages.has(messageName)) return;
    messages.set(messageName, ""); // reserve against recursion
    const s = shapes[shapeName];
    let text = comment(docOverride ?? (docText(s?.documentation) || `AWS shape ${shapeName}.`), "");
    text += `message ${messageName} {\n${fieldsOf(shapeName)}${extra}}\n`;
    messages.set(messageName, text);
  }

  let service = comment(docText(`${model.metadata.serviceFullName}, served by taskgate. Method names are the AWS operation names, so the AWS JSON route (X-Amz-Target: ${model.metadata.targetPrefix}.&lt;Operation&gt;) maps onto them by name.`), "");
  service += `service ${spec.service} {\n`;
  const rpcMessages: string[] = [];
  for (const op of spec.operations) {
    const o = model.operations[op];
    if (!o) throw new Error(`unknown operation ${op}`);
    service += comment(docText(o.documentation), "  ");
    const opts: string[] = [];
    if (spec.readOnly.includes(op)) opts.push("    option idempotency_level = NO_SIDE_EFFECTS;\n");
    if (spec.longPollSeconds[op]) opts.push(`    option (taskgate.common.v1.long_poll_seconds) = ${spec.longPollSeconds[op]};\n`);
    service += opts.length > 0
      ? `  rpc ${op}(${op}Request) returns (${op}Response) {\n${opts.join("")}  }\n`
      : `  rpc ${op}(${op}Request) returns (${op}Response);\n`;
    const inDoc = o.input ? docText(shapes[o.input.shape].documentation) : "";
    const outDoc = o.output ? docText(shapes[o.output.shape].documentation) : "";
    const req = `${op}Request`;
    const res = `${op}Response`;
    addMessage(o.input?.shape ?? "", req, `Request of ${op}. ${inDoc}`.trim());
    addMessage(o.output?.shape ?? "", res, `Response of ${op}. ${outDoc}`.trim());
    rpcMessages.push(req, res);
  }
  if (spec.extraServiceProto) service += readFileSync(join(root, spec.extraServiceProto), "utf8");
  service += "}\n";

  const head = (file: string) =>
    `// Code generated by scripts/protogen.ts from ${spec.model}; edit the generator or\n` +
    `// scripts/protogen.json, not this file. ${file}\n`;
  const opts = `syntax = "proto3";\n\npackage ${spec.package};\n`;
  const outDir = join(root, "proto", spec.dir);
  mkdirSync(outDir, { recursive: true });

  const typeMessages = [...messages.entries()].filter(([k]) => !rpcMessages.includes(k)).map(([, v]) => v);
  const rpcText = rpcMessages.map((k) => messages.get(k)!);
  let extraMessages = "";
  if (spec.extraMessagesProto) extraMessages = readFileSync(join(root, spec.extraMessagesProto), "utf8");

  const typesFile =
    head("Shared shapes and enums.") +
    `\n${opts}\n` +
    (typeMessages.join("").includes("google.protobuf.Timestamp") ? `import "google/protobuf/timestamp.proto";\n\n` : "") +
    languageOptions(spec.package, "types.proto") +
    "\n" +
    [...typeMessages, ...enums.values()].join("\n");
  writeFileSync(join(outDir, "types.proto"), typesFile);

  const rpcBody = rpcText.join("\n");
  const serviceFile =
    head("The service and its request/response messages.") +
    `\n${opts}\n` +
    (rpcBody.includes("google.protobuf.Timestamp") ? `import "google/protobuf/timestamp.proto";\n` : "") +
    `import "taskgate/common/v1/options.proto";\nimport "${spec.dir}/types.proto";\n\n` +
    languageOptions(spec.package, "service.proto") +
    "\n" +
    service +
    "\n" +
    rpcBody +
    (extraMessages ? "\n" + extraMessages : "");
  writeFileSync(join(outDir, "service.proto"), serviceFile);
  process.stdout.write(`${spec.dir}: ${spec.operations.length} rpcs, ${messages.size} messages, ${enums.size} enums\n`);
}

for (const spec of specs) generate(spec);
