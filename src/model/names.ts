// Name conversions shared by the proto generator (scripts/protogen.ts) and the AWS JSON adapter,
// so that both derive the same proto names from the model.

/** AWS member name to proto field name: `taskList` -> `task_list`, `billedMemoryUsedInMB` -> `billed_memory_used_in_mb`. */
export function snake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
}

/** AWS enum value to the suffix of its proto enum value: `WorkflowExecutionStarted` -> `WORKFLOW_EXECUTION_STARTED`. */
export function screaming(value: string): string {
  return snake(value).replace(/[^a-z0-9]+/gi, "_").toUpperCase();
}

/** The proto enum value name of an AWS enum value: (`EventType`, `TimerFired`) -> `EVENT_TYPE_TIMER_FIRED`. */
export function protoEnumValueName(enumShape: string, value: string): string {
  return `${screaming(enumShape)}_${screaming(value)}`;
}
