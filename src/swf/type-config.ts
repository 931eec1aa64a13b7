// The registered defaults of SWF types, as kept in swf_types.config (JSON).


/** Registered defaults of a workflow type (swf_types.config). */
export interface WorkflowTypeConfig {
  defaultTaskStartToCloseTimeout?: string;
  defaultExecutionStartToCloseTimeout?: string;
  defaultTaskList?: string;
  defaultTaskPriority?: string;
  defaultChildPolicy?: string;
  defaultLambdaRole?: string;
}

/** Registered defaults of an activity type (swf_types.config). */
export interface ActivityTypeConfig {
  defaultTaskStartToCloseTimeout?: string;
  defaultTaskHeartbeatTimeout?: string;
  defaultTaskList?: string;
  defaultTaskPriority?: string;
  defaultTaskScheduleToStartTimeout?: string;
  defaultTaskScheduleToCloseTimeout?: string;
}
