// The catalogue of pipeline object types AWS Data Pipeline defines, with the fields each type
// accepts, from the syntax tables of AWS's Data Pipeline Developer Guide object reference
// (Required Fields, Object Invocation Fields, Required Group, Optional Fields). Runtime and
// system fields (`@status`, `@scheduledStartTime`, …) are set by the service, never by a
// definition, and are not listed.

/** How a field's value is written and checked: a reference (`refValue`) or a string of one of these forms. */
export type FieldKind = "string" | "ref" | "period" | "datetime" | "integer" | "double" | "boolean" | "enum";

/** The families of object types; rules such as "needs a schedule" or "runs on a worker group" follow the family. */
export type Category =
  | "activity"
  | "dataNode"
  | "resource"
  | "precondition"
  | "systemPrecondition"
  | "action"
  | "utility"
  | "database"
  | "dataFormat"
  | "schedule";

/** What a definition may and must say about one object type. */
export interface ObjectTypeSpec {
  /** The family the type belongs to. */
  readonly category: Category;
  /** Whether instances are created per schedule period (the type has the `schedule` invocation field). */
  readonly scheduled: boolean;
  /** Fields an object of the type must have (own or inherited). */
  readonly required: readonly string[];
  /** Groups of fields of which at least one must be present. */
  readonly requiredGroups: readonly (readonly string[])[];
  /** Every field a definition may set on the type, with its kind (`type` and user `my…` fields aside). */
  readonly fields: Readonly<Record<string, FieldKind>>;
}

/**
 * Every object type AWS Data Pipeline defines, by the `type` value a definition uses. User-managed
 * preconditions (Exists, ShellCommandPrecondition) also accept `runsOn`/`workerGroup`: AWS's
 * preconditions concept page says they run on the resource those fields name, or on the worker
 * group of the activity that uses them.
 */
export const objectTypes: Readonly<Record<string, ObjectTypeSpec>> = {
  CopyActivity: {
    category: "activity",
    scheduled: true,
    required: [],
    requiredGroups: [["runsOn", "workerGroup"]],
    fields: { schedule: "ref", runsOn: "ref", workerGroup: "string", attemptStatus: "string", attemptTimeout: "period", dependsOn: "ref", failureAndRerunMode: "enum", input: "ref", lateAfterTimeout: "period", maxActiveInstances: "integer", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", output: "ref", parent: "ref", pipelineLogUri: "string", precondition: "ref", reportProgressTimeout: "period", retryDelay: "period", scheduleType: "enum" },
  },
  EmrActivity: {
    category: "activity",
    scheduled: true,
    required: [],
    requiredGroups: [["runsOn", "workerGroup"]],
    fields: { schedule: "ref", runsOn: "ref", workerGroup: "string", attemptStatus: "string", attemptTimeout: "period", dependsOn: "ref", failureAndRerunMode: "enum", input: "ref", lateAfterTimeout: "period", maxActiveInstances: "integer", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", output: "ref", parent: "ref", pipelineLogUri: "string", postStepCommand: "string", precondition: "ref", preStepCommand: "string", reportProgressTimeout: "period", resizeClusterBeforeRunning: "boolean", resizeClusterMaxInstances: "integer", retryDelay: "period", scheduleType: "enum", step: "string" },
  },
  HadoopActivity: {
    category: "activity",
    scheduled: true,
    required: ["jarUri"],
    requiredGroups: [["runsOn", "workerGroup"]],
    fields: { jarUri: "string", schedule: "ref", runsOn: "ref", workerGroup: "string", argument: "string", attemptStatus: "string", attemptTimeout: "period", dependsOn: "ref", failureAndRerunMode: "enum", hadoopQueue: "string", input: "ref", lateAfterTimeout: "period", mainClass: "string", maxActiveInstances: "integer", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", output: "ref", parent: "ref", pipelineLogUri: "string", postActivityTaskConfig: "ref", preActivityTaskConfig: "ref", precondition: "ref", reportProgressTimeout: "period", retryDelay: "period", scheduleType: "enum" },
  },
  HiveActivity: {
    category: "activity",
    scheduled: true,
    required: [],
    requiredGroups: [["hiveScript", "scriptUri"], ["runsOn", "workerGroup"]],
    fields: { schedule: "ref", hiveScript: "string", scriptUri: "string", runsOn: "ref", workerGroup: "string", input: "ref", output: "ref", attemptStatus: "string", attemptTimeout: "period", dependsOn: "ref", failureAndRerunMode: "enum", hadoopQueue: "string", lateAfterTimeout: "period", maxActiveInstances: "integer", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", parent: "ref", pipelineLogUri: "string", postActivityTaskConfig: "ref", preActivityTaskConfig: "ref", precondition: "ref", reportProgressTimeout: "period", resizeClusterBeforeRunning: "boolean", resizeClusterMaxInstances: "integer", retryDelay: "period", scheduleType: "enum", scriptVariable: "string", stage: "boolean" },
  },
  HiveCopyActivity: {
    category: "activity",
    scheduled: true,
    required: [],
    requiredGroups: [["runsOn", "workerGroup"]],
    fields: { schedule: "ref", runsOn: "ref", workerGroup: "string", attemptStatus: "string", attemptTimeout: "period", dependsOn: "ref", failureAndRerunMode: "enum", filterSql: "string", input: "ref", lateAfterTimeout: "period", maxActiveInstances: "integer", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", output: "ref", parent: "ref", pipelineLogUri: "string", postActivityTaskConfig: "ref", preActivityTaskConfig: "ref", precondition: "ref", reportProgressTimeout: "period", resizeClusterBeforeRunning: "boolean", resizeClusterMaxInstances: "integer", retryDelay: "period", scheduleType: "enum" },
  },
  PigActivity: {
    category: "activity",
    scheduled: true,
    required: [],
    requiredGroups: [["script", "scriptUri"], ["runsOn", "workerGroup"]],
    fields: { schedule: "ref", script: "string", scriptUri: "string", runsOn: "ref", workerGroup: "string", attemptStatus: "string", attemptTimeout: "period", dependsOn: "ref", failureAndRerunMode: "enum", input: "ref", lateAfterTimeout: "period", maxActiveInstances: "integer", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", output: "ref", parent: "ref", pipelineLogUri: "string", postActivityTaskConfig: "ref", preActivityTaskConfig: "ref", precondition: "ref", reportProgressTimeout: "period", resizeClusterBeforeRunning: "boolean", resizeClusterMaxInstances: "integer", retryDelay: "period", scheduleType: "enum", scriptVariable: "string", stage: "boolean" },
  },
  RedshiftCopyActivity: {
    category: "activity",
    scheduled: true,
    required: ["insertMode"],
    requiredGroups: [["runsOn", "workerGroup"]],
    fields: { insertMode: "enum", schedule: "ref", runsOn: "ref", workerGroup: "string", attemptStatus: "string", attemptTimeout: "period", commandOptions: "string", dependsOn: "ref", failureAndRerunMode: "enum", input: "ref", lateAfterTimeout: "period", maxActiveInstances: "integer", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", output: "ref", parent: "ref", pipelineLogUri: "string", precondition: "ref", queue: "string", reportProgressTimeout: "period", retryDelay: "period", scheduleType: "enum", transformSql: "string" },
  },
  ShellCommandActivity: {
    category: "activity",
    scheduled: true,
    required: [],
    requiredGroups: [["command", "scriptUri"], ["runsOn", "workerGroup"]],
    fields: { schedule: "ref", command: "string", scriptUri: "string", runsOn: "ref", workerGroup: "string", attemptStatus: "string", attemptTimeout: "period", dependsOn: "ref", failureAndRerunMode: "enum", input: "ref", lateAfterTimeout: "period", maxActiveInstances: "integer", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", output: "ref", parent: "ref", pipelineLogUri: "string", precondition: "ref", reportProgressTimeout: "period", retryDelay: "period", scheduleType: "enum", scriptArgument: "string", stage: "boolean", stderr: "string", stdout: "string" },
  },
  SqlActivity: {
    category: "activity",
    scheduled: true,
    required: ["database"],
    requiredGroups: [["script", "scriptUri"], ["runsOn", "workerGroup"]],
    fields: { database: "ref", schedule: "ref", script: "string", scriptUri: "string", runsOn: "ref", workerGroup: "string", attemptStatus: "string", attemptTimeout: "period", dependsOn: "ref", failureAndRerunMode: "enum", input: "ref", lateAfterTimeout: "period", maxActiveInstances: "integer", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", output: "ref", parent: "ref", pipelineLogUri: "string", precondition: "ref", queue: "string", reportProgressTimeout: "period", retryDelay: "period", scheduleType: "enum", scriptArgument: "string" },
  },
  Ec2Resource: {
    category: "resource",
    scheduled: true,
    required: ["resourceRole", "role"],
    requiredGroups: [],
    fields: { resourceRole: "string", role: "string", schedule: "ref", actionOnResourceFailure: "string", actionOnTaskFailure: "string", associatePublicIpAddress: "boolean", attemptStatus: "string", attemptTimeout: "period", availabilityZone: "string", failureAndRerunMode: "enum", httpProxy: "ref", imageId: "string", initTimeout: "period", instanceCount: "integer", instanceType: "string", keyPair: "string", lateAfterTimeout: "period", maxActiveInstances: "integer", maximumRetries: "integer", minInstanceCount: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", parent: "ref", pipelineLogUri: "string", region: "enum", reportProgressTimeout: "period", retryDelay: "period", runAsUser: "string", runsOn: "ref", scheduleType: "enum", securityGroupIds: "string", securityGroups: "string", spotBidPrice: "string", subnetId: "string", terminateAfter: "period", useOnDemandOnLastAttempt: "boolean", workerGroup: "string" },
  },
  EmrCluster: {
    category: "resource",
    scheduled: true,
    required: [],
    requiredGroups: [],
    fields: { schedule: "ref", actionOnResourceFailure: "string", actionOnTaskFailure: "string", additionalMasterSecurityGroupIds: "string", additionalSlaveSecurityGroupIds: "string", amiVersion: "string", applications: "string", attemptStatus: "string", attemptTimeout: "period", availabilityZone: "string", bootstrapAction: "string", configuration: "ref", coreInstanceBidPrice: "string", coreInstanceCount: "integer", coreInstanceType: "string", coreGroupConfiguration: "ref", coreEbsConfiguration: "ref", EbsBlockDeviceConfig: "ref", emrManagedMasterSecurityGroupId: "string", emrManagedSlaveSecurityGroupId: "string", enableDebugging: "string", failureAndRerunMode: "enum", hadoopSchedulerType: "enum", httpProxy: "ref", initTimeout: "period", keyPair: "string", lateAfterTimeout: "period", masterInstanceBidPrice: "string", masterInstanceType: "string", masterGroupConfiguration: "ref", masterEbsConfiguration: "ref", maxActiveInstances: "integer", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", parent: "ref", pipelineLogUri: "string", region: "enum", releaseLabel: "string", reportProgressTimeout: "period", resourceRole: "string", retryDelay: "period", role: "string", runsOn: "ref", serviceAccessSecurityGroupId: "string", scheduleType: "enum", subnetId: "string", supportedProducts: "string", taskInstanceBidPrice: "string", taskInstanceCount: "integer", taskInstanceType: "string", taskGroupConfiguration: "ref", taskEbsConfiguration: "ref", terminateAfter: "period", VolumeSpecification: "ref", useOnDemandOnLastAttempt: "boolean", workerGroup: "string" },
  },
  HttpProxy: {
    category: "resource",
    scheduled: false,
    required: ["hostname", "port"],
    requiredGroups: [],
    fields: { hostname: "string", port: "string", parent: "ref", "*password": "string", s3NoProxy: "boolean", username: "string", windowsDomain: "string", windowsWorkgroup: "string" },
  },
  DynamoDBDataNode: {
    category: "dataNode",
    scheduled: true,
    required: ["tableName"],
    requiredGroups: [],
    fields: { tableName: "string", schedule: "ref", attemptStatus: "string", attemptTimeout: "period", dataFormat: "ref", dependsOn: "ref", failureAndRerunMode: "enum", lateAfterTimeout: "period", maxActiveInstances: "integer", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", parent: "ref", pipelineLogUri: "string", precondition: "ref", readThroughputPercent: "double", region: "enum", reportProgressTimeout: "period", retryDelay: "period", runsOn: "ref", scheduleType: "enum", workerGroup: "string", writeThroughputPercent: "double" },
  },
  MySqlDataNode: {
    category: "dataNode",
    scheduled: true,
    required: ["table"],
    requiredGroups: [],
    fields: { table: "string", schedule: "ref", attemptStatus: "string", attemptTimeout: "period", createTableSql: "string", database: "ref", dependsOn: "ref", failureAndRerunMode: "enum", insertQuery: "string", lateAfterTimeout: "period", maxActiveInstances: "integer", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", parent: "ref", pipelineLogUri: "string", precondition: "ref", reportProgressTimeout: "period", retryDelay: "period", runsOn: "ref", scheduleType: "enum", schemaName: "string", selectQuery: "string", workerGroup: "string" },
  },
  RedshiftDataNode: {
    category: "dataNode",
    scheduled: true,
    required: ["database", "tableName"],
    requiredGroups: [],
    fields: { database: "ref", tableName: "string", schedule: "ref", attemptStatus: "string", attemptTimeout: "period", createTableSql: "string", dependsOn: "ref", failureAndRerunMode: "enum", lateAfterTimeout: "period", maxActiveInstances: "integer", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", parent: "ref", pipelineLogUri: "string", precondition: "ref", primaryKeys: "string", reportProgressTimeout: "period", retryDelay: "period", runsOn: "ref", scheduleType: "enum", schemaName: "string", workerGroup: "string" },
  },
  S3DataNode: {
    category: "dataNode",
    scheduled: true,
    required: [],
    requiredGroups: [],
    fields: { schedule: "ref", attemptStatus: "string", attemptTimeout: "period", compression: "enum", dataFormat: "ref", dependsOn: "ref", directoryPath: "string", failureAndRerunMode: "enum", filePath: "string", lateAfterTimeout: "period", manifestFilePath: "string", maxActiveInstances: "integer", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", parent: "ref", pipelineLogUri: "string", precondition: "ref", reportProgressTimeout: "period", retryDelay: "period", runsOn: "ref", s3EncryptionType: "enum", scheduleType: "enum", workerGroup: "string" },
  },
  SqlDataNode: {
    category: "dataNode",
    scheduled: true,
    required: ["table"],
    requiredGroups: [],
    fields: { table: "string", schedule: "ref", attemptStatus: "string", attemptTimeout: "period", createTableSql: "string", database: "ref", dependsOn: "ref", failureAndRerunMode: "enum", insertQuery: "string", lateAfterTimeout: "period", maxActiveInstances: "integer", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", parent: "ref", pipelineLogUri: "string", precondition: "ref", reportProgressTimeout: "period", retryDelay: "period", runsOn: "ref", scheduleType: "enum", schemaName: "string", selectQuery: "string", workerGroup: "string" },
  },
  DynamoDBDataExists: {
    category: "systemPrecondition",
    scheduled: false,
    required: ["role", "tableName"],
    requiredGroups: [],
    fields: { role: "string", tableName: "string", attemptStatus: "string", attemptTimeout: "period", failureAndRerunMode: "enum", lateAfterTimeout: "period", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", parent: "ref", preconditionTimeout: "period", reportProgressTimeout: "period", retryDelay: "period" },
  },
  DynamoDBTableExists: {
    category: "systemPrecondition",
    scheduled: false,
    required: ["role", "tableName"],
    requiredGroups: [],
    fields: { role: "string", tableName: "string", attemptStatus: "string", attemptTimeout: "period", failureAndRerunMode: "enum", lateAfterTimeout: "period", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", parent: "ref", preconditionTimeout: "period", reportProgressTimeout: "period", retryDelay: "period" },
  },
  S3KeyExists: {
    category: "systemPrecondition",
    scheduled: false,
    required: ["role", "s3Key"],
    requiredGroups: [],
    fields: { role: "string", s3Key: "string", attemptStatus: "string", attemptTimeout: "period", failureAndRerunMode: "enum", lateAfterTimeout: "period", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", parent: "ref", preconditionTimeout: "period", reportProgressTimeout: "period", retryDelay: "period" },
  },
  S3PrefixNotEmpty: {
    category: "systemPrecondition",
    scheduled: false,
    required: ["role", "s3Prefix"],
    requiredGroups: [],
    fields: { role: "string", s3Prefix: "string", attemptStatus: "string", attemptTimeout: "period", failureAndRerunMode: "enum", lateAfterTimeout: "period", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", parent: "ref", preconditionTimeout: "period", reportProgressTimeout: "period", retryDelay: "period" },
  },
  Exists: {
    category: "precondition",
    scheduled: false,
    required: [],
    requiredGroups: [],
    fields: { runsOn: "ref", workerGroup: "string", attemptStatus: "string", attemptTimeout: "period", failureAndRerunMode: "enum", lateAfterTimeout: "period", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", parent: "ref", preconditionTimeout: "period", reportProgressTimeout: "period", retryDelay: "period" },
  },
  ShellCommandPrecondition: {
    category: "precondition",
    scheduled: false,
    required: [],
    requiredGroups: [["command", "scriptUri"]],
    fields: { runsOn: "ref", workerGroup: "string", command: "string", scriptUri: "string", attemptStatus: "string", attemptTimeout: "period", failureAndRerunMode: "enum", lateAfterTimeout: "period", maximumRetries: "integer", onFail: "ref", onLateAction: "ref", onSuccess: "ref", parent: "ref", preconditionTimeout: "period", reportProgressTimeout: "period", retryDelay: "period", scriptArgument: "string", stderr: "string", stdout: "string" },
  },
  SnsAlarm: {
    category: "action",
    scheduled: false,
    required: ["message", "role", "subject", "topicArn"],
    requiredGroups: [],
    fields: { message: "string", role: "string", subject: "string", topicArn: "string", parent: "ref" },
  },
  Terminate: {
    category: "action",
    scheduled: false,
    required: [],
    requiredGroups: [],
    fields: { parent: "ref" },
  },
  ShellScriptConfig: {
    category: "utility",
    scheduled: false,
    required: [],
    requiredGroups: [],
    fields: { parent: "ref", scriptArgument: "string", scriptUri: "string" },
  },
  EmrConfiguration: {
    category: "utility",
    scheduled: false,
    required: ["classification"],
    requiredGroups: [],
    fields: { classification: "string", configuration: "ref", parent: "ref", property: "ref" },
  },
  Property: {
    category: "utility",
    scheduled: false,
    required: ["key", "value"],
    requiredGroups: [],
    fields: { key: "string", value: "string", parent: "ref" },
  },
  JdbcDatabase: {
    category: "database",
    scheduled: false,
    required: ["connectionString", "jdbcDriverClass", "*password", "username"],
    requiredGroups: [],
    fields: { connectionString: "string", jdbcDriverClass: "string", "*password": "string", username: "string", databaseName: "string", jdbcDriverJarUri: "string", jdbcProperties: "string", parent: "ref" },
  },
  RdsDatabase: {
    category: "database",
    scheduled: false,
    required: ["*password", "rdsInstanceId", "username"],
    requiredGroups: [],
    fields: { "*password": "string", rdsInstanceId: "string", username: "string", databaseName: "string", jdbcDriverJarUri: "string", jdbcProperties: "string", parent: "ref", region: "string" },
  },
  RedshiftDatabase: {
    category: "database",
    scheduled: false,
    required: ["*password", "username"],
    requiredGroups: [["clusterId", "connectionString"]],
    fields: { "*password": "string", username: "string", clusterId: "string", connectionString: "string", databaseName: "string", jdbcProperties: "string", parent: "ref", region: "enum" },
  },
  CSV: {
    category: "dataFormat",
    scheduled: false,
    required: [],
    requiredGroups: [],
    fields: { column: "string", escapeChar: "string", parent: "ref" },
  },
  Custom: {
    category: "dataFormat",
    scheduled: false,
    required: ["columnSeparator"],
    requiredGroups: [],
    fields: { columnSeparator: "string", column: "string", parent: "ref", recordSeparator: "string" },
  },
  DynamoDBDataFormat: {
    category: "dataFormat",
    scheduled: false,
    required: [],
    requiredGroups: [],
    fields: { column: "string", parent: "ref" },
  },
  DynamoDBExportDataFormat: {
    category: "dataFormat",
    scheduled: false,
    required: [],
    requiredGroups: [],
    fields: { column: "string", parent: "ref" },
  },
  RegEx: {
    category: "dataFormat",
    scheduled: false,
    required: [],
    requiredGroups: [],
    fields: { column: "string", inputRegEx: "string", outputFormat: "string", parent: "ref" },
  },
  TSV: {
    category: "dataFormat",
    scheduled: false,
    required: [],
    requiredGroups: [],
    fields: { column: "string", columnSeparator: "string", escapeChar: "string", parent: "ref", recordSeparator: "string" },
  },
  Schedule: {
    category: "schedule",
    scheduled: false,
    required: ["period"],
    requiredGroups: [["startAt", "startDateTime"]],
    fields: { period: "period", startAt: "enum", startDateTime: "datetime", endDateTime: "datetime", occurrences: "integer", parent: "ref" },
  },};

/** Resource types only AWS can provision (EC2 instances, EMR clusters); taskgate routes work by `workerGroup` instead. */
export const awsProvisionedTypes: readonly string[] = ["Ec2Resource", "EmrCluster"];

/** Fields every object may carry whatever its type. */
export const universalFields: Readonly<Record<string, FieldKind>> = { type: "string", parent: "ref" };

/** Kinds of the fields the Default object and type-less parent objects commonly carry, checked wherever they appear. */
export const commonFieldKinds: Readonly<Record<string, FieldKind>> = {
  schedule: "ref",
  scheduleType: "enum",
  failureAndRerunMode: "enum",
  workerGroup: "string",
  runsOn: "ref",
  dependsOn: "ref",
  precondition: "ref",
  onFail: "ref",
  onSuccess: "ref",
  onLateAction: "ref",
  maximumRetries: "integer",
  maxActiveInstances: "integer",
  attemptTimeout: "period",
  retryDelay: "period",
  reportProgressTimeout: "period",
  lateAfterTimeout: "period",
  terminateAfter: "period",
  role: "string",
  resourceRole: "string",
  pipelineLogUri: "string",
};

/** A user-defined field: "my" in lower case, then a capital letter or an underscore (AWS's rule). */
export function isUserDefinedField(key: string): boolean {
  return /^my[A-Z_]/.test(key);
}
