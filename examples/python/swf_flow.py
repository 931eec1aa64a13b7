#!/usr/bin/python3
"""Runs one whole Amazon SWF workflow against taskgate over gRPC (cleartext HTTP/2) with grpcio.

The client is generated from taskgate's protos (see README.md). It registers a domain and its
types, starts an execution, long-polls for the decision task, schedules an activity, receives it
on a StreamActivityTasks stream, completes it, completes the workflow and reads the execution
closed.

Before the flow it shows two things every gRPC client of taskgate meets: a long poll whose client
deadline (1 s) is shorter than the server's hold answers with the empty result before the
deadline, not DEADLINE_EXCEEDED; and a failure carries a taskgate.common.v1.Fault detail naming
the SWF fault.

Usage: swf_flow.py [--addr 127.0.0.1:8080] [--domain python-example]. It prints one line per step
and exits 1 at the first step that does not go as described.
"""

import argparse
import os
import sys
import time

# The generated modules import each other as taskgate.<name>.v1.*: their folder goes on the path.
# PYTHONPATH, when set, comes first.
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen"))

import grpc  # noqa: E402
from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory  # noqa: E402

from taskgate.common.v1 import options_pb2  # noqa: E402
from taskgate.swf.v1 import service_pb2 as svc, service_pb2_grpc, types_pb2 as types  # noqa: E402


def _rpc_status_class():
    """google.rpc.Status, the message gRPC carries error details in (grpc-status-details-bin).

    pip's grpcio-status and googleapis-common-protos provide it (grpc_status.rpc_status.from_call);
    Debian 12 packages neither, so it is declared here from its three fields, in a descriptor pool
    of its own (no clash when googleapis-common-protos is installed too).
    """
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(any_pb2.DESCRIPTOR.serialized_pb)
    f = descriptor_pb2.FileDescriptorProto(
        name="google/rpc/status.proto", package="google.rpc", syntax="proto3", dependency=["google/protobuf/any.proto"]
    )
    m = f.message_type.add(name="Status")
    fd = descriptor_pb2.FieldDescriptorProto
    m.field.add(name="code", number=1, type=fd.TYPE_INT32, label=fd.LABEL_OPTIONAL)
    m.field.add(name="message", number=2, type=fd.TYPE_STRING, label=fd.LABEL_OPTIONAL)
    m.field.add(name="details", number=3, type=fd.TYPE_MESSAGE, label=fd.LABEL_REPEATED, type_name=".google.protobuf.Any")
    pool.Add(f)
    desc = pool.FindMessageTypeByName("google.rpc.Status")
    if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.22
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)  # protobuf 4.21 (Debian 12)


RpcStatus = _rpc_status_class()
FAULT_TYPE_URL = "type.googleapis.com/taskgate.common.v1.Fault"


def fault_of(err):
    """The taskgate.common.v1.Fault a failed call carries, or None."""
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in RpcStatus.FromString(value).details:
                if detail.type_url == FAULT_TYPE_URL:
                    return options_pb2.Fault.FromString(detail.value)
    return None


def ignore_exists(call):
    """Runs a registration, letting a second run reuse what the first registered."""
    try:
        call()
    except grpc.RpcError as err:
        if err.code() != grpc.StatusCode.ALREADY_EXISTS:
            raise


def poll_decision(swf, domain):
    """Long-polls the deciders' task list until a decision task arrives (an empty answer means the
    hold time passed with nothing to do)."""
    while True:
        task = swf.PollForDecisionTask(
            svc.PollForDecisionTaskRequest(domain=domain, task_list=types.TaskList(name="deciders"), identity="python-decider")
        )
        if task.task_token:
            return task


def run(addr, domain):
    channel = grpc.insecure_channel(addr)  # cleartext HTTP/2 (h2c), what taskgate speaks
    grpc.channel_ready_future(channel).result(timeout=10)
    swf = service_pb2_grpc.SimpleWorkflowServiceStub(channel)

    ignore_exists(lambda: swf.RegisterDomain(svc.RegisterDomainRequest(name=domain, workflow_execution_retention_period_in_days="1")))
    ignore_exists(
        lambda: swf.RegisterWorkflowType(
            svc.RegisterWorkflowTypeRequest(
                domain=domain,
                name="hello",
                version="1",
                default_task_list=types.TaskList(name="deciders"),
                default_execution_start_to_close_timeout="3600",
                default_task_start_to_close_timeout="30",
                default_child_policy=types.CHILD_POLICY_TERMINATE,
            )
        )
    )
    ignore_exists(
        lambda: swf.RegisterActivityType(
            svc.RegisterActivityTypeRequest(
                domain=domain,
                name="greet",
                version="1",
                default_task_list=types.TaskList(name="workers"),
                default_task_schedule_to_start_timeout="300",
                default_task_schedule_to_close_timeout="600",
                default_task_start_to_close_timeout="300",
                default_task_heartbeat_timeout="NONE",
            )
        )
    )
    print(f"registered domain {domain}, workflow type hello/1, activity type greet/1")

    # A long poll with a 1 s deadline on a task list nobody feeds: the server answers the empty
    # result shortly before the deadline.
    began = time.monotonic()
    try:
        idle = swf.PollForActivityTask(
            svc.PollForActivityTaskRequest(domain=domain, task_list=types.TaskList(name="nobody-schedules-here")), timeout=1.0
        )
    except grpc.RpcError as err:
        raise SystemExit(f"swf_flow: long poll with a 1 s deadline: {err.code().name} (want the empty result)")
    if idle.task_token:
        raise SystemExit("swf_flow: long poll with a 1 s deadline: got a task from a task list nobody feeds")
    print(f"long poll with a 1 s deadline: empty result after {round((time.monotonic() - began) * 1000)} ms (status OK)")

    # A failure's details name the SWF fault, as __type does on the AWS JSON route.
    try:
        swf.DescribeDomain(svc.DescribeDomainRequest(name="no-such-domain"))
        raise SystemExit("swf_flow: DescribeDomain of a missing domain succeeded")
    except grpc.RpcError as err:
        fault = fault_of(err)
        if fault is None:
            raise SystemExit(f"swf_flow: DescribeDomain of a missing domain: want a Fault detail, got {err}")
        print(f"fault: {err.code().name} {fault.name} ({fault.namespace}): {fault.message}")

    # Start an execution; its first decision task waits for a decider.
    workflow_id = f"hello-{time.time_ns()}"
    started = swf.StartWorkflowExecution(
        svc.StartWorkflowExecutionRequest(
            domain=domain, workflow_id=workflow_id, workflow_type=types.WorkflowType(name="hello", version="1"), input="world"
        )
    )
    print(f"started {workflow_id} run {started.run_id}")

    # Decider: a unary long poll, then schedule one activity with the workflow's input.
    decision = poll_decision(swf, domain)
    workflow_input = decision.events[0].workflow_execution_started_event_attributes.input
    swf.RespondDecisionTaskCompleted(
        svc.RespondDecisionTaskCompletedRequest(
            task_token=decision.task_token,
            decisions=[
                types.Decision(
                    decision_type=types.DECISION_TYPE_SCHEDULE_ACTIVITY_TASK,
                    schedule_activity_task_decision_attributes=types.ScheduleActivityTaskDecisionAttributes(
                        activity_type=types.ActivityType(name="greet", version="1"), activity_id="greet-1", input=workflow_input
                    ),
                )
            ],
        )
    )
    print(f"decision task with {len(decision.events)} events: scheduled greet-1")

    # Activity worker: tasks pushed on a stream, one at a time (max_in_flight 1).
    stream = swf.StreamActivityTasks(
        svc.StreamActivityTasksRequest(domain=domain, task_list=types.TaskList(name="workers"), identity="python-worker", max_in_flight=1)
    )
    task = next(stream)
    print(f'activity task from the stream: {task.activity_id} input "{task.input}"')
    swf.RespondActivityTaskCompleted(svc.RespondActivityTaskCompletedRequest(task_token=task.task_token, result=f"hello, {task.input}"))
    stream.cancel()  # ends the stream; a real worker keeps reading it
    print(f"completed {task.activity_id}")

    # Decider again: the activity's result completes the workflow.
    decision = poll_decision(swf, domain)
    result = ""
    for e in decision.events:
        if e.event_type == types.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            result = e.activity_task_completed_event_attributes.result
    swf.RespondDecisionTaskCompleted(
        svc.RespondDecisionTaskCompletedRequest(
            task_token=decision.task_token,
            decisions=[
                types.Decision(
                    decision_type=types.DECISION_TYPE_COMPLETE_WORKFLOW_EXECUTION,
                    complete_workflow_execution_decision_attributes=types.CompleteWorkflowExecutionDecisionAttributes(result=result),
                )
            ],
        )
    )
    print(f'decision task with {len(decision.events)} events: completed the workflow with "{result}"')

    info = swf.DescribeWorkflowExecution(
        svc.DescribeWorkflowExecutionRequest(domain=domain, execution=types.WorkflowExecution(workflow_id=workflow_id, run_id=started.run_id))
    ).execution_info
    status = types.ExecutionStatus.Name(info.execution_status)
    close = types.CloseStatus.Name(info.close_status)
    print(f"execution {workflow_id}: {status} {close}")
    if info.close_status != types.CLOSE_STATUS_COMPLETED:
        raise SystemExit("swf_flow: the execution did not close as COMPLETED")
    channel.close()


def main():
    parser = argparse.ArgumentParser(description="One SWF workflow against taskgate over gRPC.")
    parser.add_argument("--addr", default="127.0.0.1:8080", help="taskgate's host:port")
    parser.add_argument("--domain", default="python-example", help="the SWF domain to use (registered when missing)")
    args = parser.parse_args()
    try:
        run(args.addr, args.domain)
    except grpc.RpcError as err:
        raise SystemExit(f"swf_flow: {err.code().name}: {err.details()}")
    except grpc.FutureTimeoutError:
        raise SystemExit(f"swf_flow: could not connect to {args.addr} within 10 s")


if __name__ == "__main__":
    main()
