// Command swf-flow runs one whole Amazon SWF workflow against taskgate over gRPC (cleartext
// HTTP/2), with the client generated from taskgate's protos by protoc-gen-go and
// protoc-gen-go-grpc: it registers a domain and its types, starts an execution, long-polls for
// the decision task, schedules an activity, receives it on a StreamActivityTasks stream,
// completes it, completes the workflow and reads the execution closed.
//
// Before the flow it shows two things every gRPC client of taskgate meets: a long poll whose
// client deadline (1 s) is shorter than the server's hold answers with the empty result before
// the deadline, not DEADLINE_EXCEEDED; and a failure carries a taskgate.common.v1.Fault detail
// naming the SWF fault.
//
// Usage: swf-flow [-addr 127.0.0.1:8080] [-domain go-example]. It prints one line per step and
// exits 1 at the first step that does not go as described.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	commonv1 "taskgate/gen/go/taskgate/common/v1"
	swfv1 "taskgate/gen/go/taskgate/swf/v1"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "taskgate's host:port")
	domain := flag.String("domain", "go-example", "the SWF domain to use (registered when missing)")
	flag.Parse()
	if err := run(*addr, *domain); err != nil {
		fmt.Fprintln(os.Stderr, "swf-flow:", err)
		os.Exit(1)
	}
}

// fault returns the SWF fault a failed call carries: the gRPC status code and the
// taskgate.common.v1.Fault among the status details (nil when there is none).
func fault(err error) (codes.Code, *commonv1.Fault) {
	st, ok := status.FromError(err)
	if !ok {
		return codes.Unknown, nil
	}
	for _, d := range st.Details() {
		if f, ok := d.(*commonv1.Fault); ok {
			return st.Code(), f
		}
	}
	return st.Code(), nil
}

// ignoreExists lets a second run reuse what the first registered.
func ignoreExists(err error) error {
	if code, _ := fault(err); code == codes.AlreadyExists {
		return nil
	}
	return err
}

func run(addr, domain string) error {
	ctx := context.Background()
	// grpc-go 1.33 (Debian 12): WithInsecure is cleartext HTTP/2 (h2c), what taskgate speaks.
	conn, err := grpc.Dial(addr, grpc.WithInsecure(), grpc.WithBlock(), grpc.FailOnNonTempDialError(true), grpc.WithTimeout(10*time.Second))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	defer conn.Close()
	swf := swfv1.NewSimpleWorkflowServiceClient(conn)
	s := proto.String

	// Registration, tolerating a second run.
	if _, err := swf.RegisterDomain(ctx, &swfv1.RegisterDomainRequest{Name: s(domain), WorkflowExecutionRetentionPeriodInDays: s("1")}); ignoreExists(err) != nil {
		return fmt.Errorf("RegisterDomain: %w", err)
	}
	if _, err := swf.RegisterWorkflowType(ctx, &swfv1.RegisterWorkflowTypeRequest{
		Domain: s(domain), Name: s("hello"), Version: s("1"),
		DefaultTaskList:                     &swfv1.TaskList{Name: s("deciders")},
		DefaultExecutionStartToCloseTimeout: s("3600"),
		DefaultTaskStartToCloseTimeout:      s("30"),
		DefaultChildPolicy:                  swfv1.ChildPolicy_CHILD_POLICY_TERMINATE,
	}); ignoreExists(err) != nil {
		return fmt.Errorf("RegisterWorkflowType: %w", err)
	}
	if _, err := swf.RegisterActivityType(ctx, &swfv1.RegisterActivityTypeRequest{
		Domain: s(domain), Name: s("greet"), Version: s("1"),
		DefaultTaskList:                   &swfv1.TaskList{Name: s("workers")},
		DefaultTaskScheduleToStartTimeout: s("300"),
		DefaultTaskScheduleToCloseTimeout: s("600"),
		DefaultTaskStartToCloseTimeout:    s("300"),
		DefaultTaskHeartbeatTimeout:       s("NONE"),
	}); ignoreExists(err) != nil {
		return fmt.Errorf("RegisterActivityType: %w", err)
	}
	fmt.Printf("registered domain %s, workflow type hello/1, activity type greet/1\n", domain)

	// A long poll with a 1 s deadline on a task list nobody feeds: the server answers the empty
	// result shortly before the deadline.
	short, cancel := context.WithTimeout(ctx, time.Second)
	began := time.Now()
	idle, err := swf.PollForActivityTask(short, &swfv1.PollForActivityTaskRequest{Domain: s(domain), TaskList: &swfv1.TaskList{Name: s("nobody-schedules-here")}})
	cancel()
	if err != nil {
		return fmt.Errorf("long poll with a 1 s deadline: %s (want the empty result)", status.Code(err))
	}
	if idle.GetTaskToken() != "" {
		return errors.New("long poll with a 1 s deadline: got a task from a task list nobody feeds")
	}
	fmt.Printf("long poll with a 1 s deadline: empty result after %d ms (status %s)\n", time.Since(began).Milliseconds(), codes.OK)

	// A failure's details name the SWF fault, as __type does on the AWS JSON route.
	_, err = swf.DescribeDomain(ctx, &swfv1.DescribeDomainRequest{Name: s("no-such-domain")})
	code, f := fault(err)
	if f == nil {
		return fmt.Errorf("DescribeDomain of a missing domain: want a Fault detail, got %v", err)
	}
	fmt.Printf("fault: %s %s (%s): %s\n", code, f.GetName(), f.GetNamespace(), f.GetMessage())

	// Start an execution; its first decision task waits for a decider.
	workflowID := fmt.Sprintf("hello-%d", time.Now().UnixNano())
	started, err := swf.StartWorkflowExecution(ctx, &swfv1.StartWorkflowExecutionRequest{
		Domain: s(domain), WorkflowId: s(workflowID), WorkflowType: &swfv1.WorkflowType{Name: s("hello"), Version: s("1")}, Input: s("world"),
	})
	if err != nil {
		return fmt.Errorf("StartWorkflowExecution: %w", err)
	}
	fmt.Printf("started %s run %s\n", workflowID, started.GetRunId())

	// Decider: a unary long poll, then schedule one activity with the workflow's input.
	decision, err := pollDecision(ctx, swf, domain)
	if err != nil {
		return err
	}
	input := decision.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetInput()
	if _, err := swf.RespondDecisionTaskCompleted(ctx, &swfv1.RespondDecisionTaskCompletedRequest{
		TaskToken: decision.TaskToken,
		Decisions: []*swfv1.Decision{{
			DecisionType: swfv1.DecisionType_DECISION_TYPE_SCHEDULE_ACTIVITY_TASK,
			ScheduleActivityTaskDecisionAttributes: &swfv1.ScheduleActivityTaskDecisionAttributes{
				ActivityType: &swfv1.ActivityType{Name: s("greet"), Version: s("1")}, ActivityId: s("greet-1"), Input: s(input),
			},
		}},
	}); err != nil {
		return fmt.Errorf("RespondDecisionTaskCompleted (schedule): %w", err)
	}
	fmt.Printf("decision task with %d events: scheduled greet-1\n", len(decision.GetEvents()))

	// Activity worker: tasks pushed on a stream, one at a time (max_in_flight 1).
	streamCtx, closeStream := context.WithCancel(ctx)
	defer closeStream()
	stream, err := swf.StreamActivityTasks(streamCtx, &swfv1.StreamActivityTasksRequest{
		Domain: s(domain), TaskList: &swfv1.TaskList{Name: s("workers")}, Identity: s("go-worker"), MaxInFlight: proto.Int32(1),
	})
	if err != nil {
		return fmt.Errorf("StreamActivityTasks: %w", err)
	}
	task, err := stream.Recv()
	if err != nil {
		return fmt.Errorf("StreamActivityTasks: %w", err)
	}
	fmt.Printf("activity task from the stream: %s input %q\n", task.GetActivityId(), task.GetInput())
	if _, err := swf.RespondActivityTaskCompleted(ctx, &swfv1.RespondActivityTaskCompletedRequest{TaskToken: task.TaskToken, Result: s("hello, " + task.GetInput())}); err != nil {
		return fmt.Errorf("RespondActivityTaskCompleted: %w", err)
	}
	closeStream() // ends the stream; a real worker keeps reading it
	if _, err := stream.Recv(); err != nil && err != io.EOF && status.Code(err) != codes.Canceled {
		return fmt.Errorf("closing the stream: %w", err)
	}
	fmt.Printf("completed %s\n", task.GetActivityId())

	// Decider again: the activity's result completes the workflow.
	decision, err = pollDecision(ctx, swf, domain)
	if err != nil {
		return err
	}
	var result string
	for _, e := range decision.GetEvents() {
		if e.GetEventType() == swfv1.EventType_EVENT_TYPE_ACTIVITY_TASK_COMPLETED {
			result = e.GetActivityTaskCompletedEventAttributes().GetResult()
		}
	}
	if _, err := swf.RespondDecisionTaskCompleted(ctx, &swfv1.RespondDecisionTaskCompletedRequest{
		TaskToken: decision.TaskToken,
		Decisions: []*swfv1.Decision{{
			DecisionType: swfv1.DecisionType_DECISION_TYPE_COMPLETE_WORKFLOW_EXECUTION,
			CompleteWorkflowExecutionDecisionAttributes: &swfv1.CompleteWorkflowExecutionDecisionAttributes{Result: s(result)},
		}},
	}); err != nil {
		return fmt.Errorf("RespondDecisionTaskCompleted (complete): %w", err)
	}
	fmt.Printf("decision task with %d events: completed the workflow with %q\n", len(decision.GetEvents()), result)

	described, err := swf.DescribeWorkflowExecution(ctx, &swfv1.DescribeWorkflowExecutionRequest{
		Domain: s(domain), Execution: &swfv1.WorkflowExecution{WorkflowId: s(workflowID), RunId: started.RunId},
	})
	if err != nil {
		return fmt.Errorf("DescribeWorkflowExecution: %w", err)
	}
	info := described.GetExecutionInfo()
	fmt.Printf("execution %s: %s %s\n", workflowID, info.GetExecutionStatus(), info.GetCloseStatus())
	if info.GetCloseStatus() != swfv1.CloseStatus_CLOSE_STATUS_COMPLETED {
		return errors.New("the execution did not close as COMPLETED")
	}
	return nil
}

// pollDecision long-polls the deciders' task list until a decision task arrives (an empty
// answer means the hold time passed with nothing to do).
func pollDecision(ctx context.Context, swf swfv1.SimpleWorkflowServiceClient, domain string) (*swfv1.PollForDecisionTaskResponse, error) {
	for {
		task, err := swf.PollForDecisionTask(ctx, &swfv1.PollForDecisionTaskRequest{Domain: proto.String(domain), TaskList: &swfv1.TaskList{Name: proto.String("deciders")}, Identity: proto.String("go-decider")})
		if err != nil {
			return nil, fmt.Errorf("PollForDecisionTask: %w", err)
		}
		if task.GetTaskToken() != "" {
			return task, nil
		}
	}
}
