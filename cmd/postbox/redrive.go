package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postbox-go/postbox/backend"
)

func newRedriveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "redrive",
		Short: "Move messages out of a dead-letter queue (start, list, cancel move tasks)",
		Long: `Start, list and cancel message move tasks (StartMessageMoveTask,
ListMessageMoveTasks, CancelMessageMoveTask): a task moves the messages of a
dead-letter queue back to the queues they came from, or to a destination
queue, optionally at a limited rate. --follow shows a task's progress until
it ends.

Queues may be given as URLs, names or ARNs (arn:aws:sqs:REGION:ACCOUNT:NAME);
names and ARNs are used with --endpoint (or $AWS_ENDPOINT_URL_SQS,
$AWS_ENDPOINT_URL, else AWS SQS in $AWS_REGION).`,
		Example: `  postbox redrive start jobs-dlq --follow
  postbox redrive start --source jobs-dlq --destination jobs-retry --rate 50
  postbox redrive list jobs-dlq
  postbox redrive cancel AQEB...`,
		Args: exactArgs(0, "a subcommand"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newRedriveStartCmd(), newRedriveListCmd(), newRedriveCancelCmd())
	return cmd
}

// connectARN connects for a queue given as a URL, name or ARN and returns
// the queue's ARN.
func connectARN(ctx context.Context, flags clientFlags, arg string) (*conn, string, error) {
	if strings.HasPrefix(arg, "arn:") {
		c, err := connect(ctx, flags)
		return c, arg, err
	}
	t, err := openTarget(ctx, flags, arg)
	if err != nil {
		return nil, "", err
	}
	arn, err := queueARN(ctx, t)
	if err != nil {
		t.Close()
		return nil, "", err
	}
	return t.conn, arn, nil
}

// arnOn returns the ARN of a queue given as a URL, name or ARN, on an open
// connection.
func arnOn(ctx context.Context, c *conn, arg string) (string, error) {
	if strings.HasPrefix(arg, "arn:") {
		return arg, nil
	}
	_, name, queueURL, _, err := splitQueue(arg)
	if err != nil {
		return "", err
	}
	if queueURL == "" {
		if queueURL, err = c.svc.QueueURL(ctx, name, ""); err != nil {
			return "", err
		}
	}
	return queueARN(ctx, &target{conn: c, url: queueURL, name: name})
}

func newRedriveStartCmd() *cobra.Command {
	var flags clientFlags
	var source, destination string
	var rate int
	var follow bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "start [DLQ]",
		Short: "Start moving a dead-letter queue's messages",
		Long: `Start a message move task from a dead-letter queue (the DLQ argument or
--source) to the queues its messages came from, or to --destination, and
print its handle ("task handle: HANDLE" on stdout; on stderr, the commands
that list its progress and cancel it). --rate limits it to N messages per second (1-500;
default as fast as possible). With --follow it shows the task's progress
(a bar on a terminal) until the task completes, fails or is cancelled, and
prints the outcome; interrupting --follow leaves the task running.`,
		Example: `  postbox redrive start jobs-dlq --endpoint http://127.0.0.1:9324
  postbox redrive start jobs-dlq --follow
  postbox redrive start --source jobs-dlq --destination jobs-retry --rate 50`,
		Args: rangeArgs(0, 1, "at most one DLQ"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if len(args) == 1 {
				if source != "" && source != args[0] {
					return usageErrorf("give the dead-letter queue as an argument or --source, not both")
				}
				source = args[0]
			}
			if source == "" {
				return usageErrorf("no dead-letter queue: give DLQ or --source")
			}
			if rate < 0 || rate > 500 {
				return usageErrorf("--rate %d: want 1-500 messages per second, or 0 for no limit", rate)
			}
			if interval <= 0 {
				return usageErrorf("--interval %v: want a positive duration", interval)
			}
			c, srcARN, err := connectARN(ctx, flags, source)
			if err != nil {
				return err
			}
			defer c.Close()
			req := backend.MoveTaskRequest{SourceARN: srcARN, MaxNumberOfMessagesPerSecond: rate}
			if destination != "" {
				if req.DestinationARN, err = arnOn(ctx, c, destination); err != nil {
					return err
				}
			}
			handle, err := c.svc.StartMessageMoveTask(ctx, req)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "task handle:", handle)
			if !follow {
				endpoint := ""
				if flags.endpoint != "" {
					endpoint = " --endpoint " + flags.endpoint
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "progress: postbox redrive list %s%s\ncancel:   postbox redrive cancel %s%s\n",
					source, endpoint, handle, endpoint)
				return nil
			}
			return followTask(ctx, cmd, c, srcARN, handle, interval)
		},
	}
	flags.add(cmd)
	f := cmd.Flags()
	f.StringVar(&source, "source", "", "the dead-letter queue to move messages out of (URL, name or ARN)")
	f.StringVar(&destination, "destination", "", "move messages here (URL, name or ARN) instead of to their source queues")
	f.IntVar(&rate, "rate", 0, "the most messages moved per second, 1-500 (default: no limit)")
	f.BoolVar(&follow, "follow", false, "show progress until the task ends")
	f.DurationVar(&interval, "interval", time.Second, "with --follow: how often to check progress")
	return cmd
}

// followTask polls the task until it ends, showing progress on a terminal.
func followTask(ctx context.Context, cmd *cobra.Command, c *conn, srcARN, handle string, interval time.Duration) error {
	bar := newProgress(cmd.ErrOrStderr(), -1, "moving", "msg")
	defer bar.Finish()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		tasks, err := c.svc.ListMessageMoveTasks(ctx, srcARN, 10)
		if err != nil {
			if ctx.Err() != nil {
				return stoppedFollowing(cmd, handle, ctx.Err())
			}
			return err
		}
		task, found := findTask(tasks, handle)
		if !found {
			return fmt.Errorf("redrive: task %s is not among the source queue's tasks", handle)
		}
		bar.Set(task.ApproximateNumberOfMessagesMoved, task.ApproximateNumberOfMessagesToMove)
		switch task.Status {
		case backend.MoveTaskCompleted, backend.MoveTaskCancelled:
			bar.Finish()
			fmt.Fprintf(cmd.OutOrStdout(), "%s: moved %d messages\n", task.Status, task.ApproximateNumberOfMessagesMoved)
			return nil
		case backend.MoveTaskFailed:
			bar.Finish()
			return fmt.Errorf("redrive: task FAILED after moving %d messages: %s", task.ApproximateNumberOfMessagesMoved, task.FailureReason)
		}
		select {
		case <-ctx.Done():
			return stoppedFollowing(cmd, handle, ctx.Err())
		case <-tick.C:
		}
	}
}

// findTask finds the task with handle; a task that ended has no handle any
// more, so then it is the newest task that is not running.
func findTask(tasks []backend.MoveTask, handle string) (backend.MoveTask, bool) {
	for _, t := range tasks {
		if t.TaskHandle == handle {
			return t, true
		}
	}
	for _, t := range tasks {
		if t.Status != backend.MoveTaskRunning && t.Status != backend.MoveTaskCancelling {
			return t, true
		}
	}
	return backend.MoveTask{}, false
}

func stoppedFollowing(cmd *cobra.Command, handle string, err error) error {
	fmt.Fprintf(cmd.ErrOrStderr(), "\npostbox: stopped following; the task keeps running (postbox redrive cancel %s)\n", handle)
	return err
}

func newRedriveListCmd() *cobra.Command {
	var flags clientFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list DLQ",
		Short: "List a dead-letter queue's recent move tasks",
		Long: `List the most recent move tasks (up to 10) of a dead-letter queue, newest
first: handle (running tasks only), status, messages moved and to move,
destination and start time. --json prints one JSON object per task and line.`,
		Example: `  postbox redrive list jobs-dlq
  postbox redrive list arn:aws:sqs:us-east-1:000000000000:jobs-dlq --json`,
		Args: exactArgs(1, "a DLQ"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, arn, err := connectARN(ctx, flags, args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			tasks, err := c.svc.ListMessageMoveTasks(ctx, arn, 10)
			if err != nil {
				return err
			}
			return printTasks(cmd.OutOrStdout(), tasks, asJSON)
		},
	}
	flags.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per task and line")
	return cmd
}

// jsonTask is a move task as redrive list --json prints it.
type jsonTask struct {
	TaskHandle     string    `json:"taskHandle,omitempty"`
	Status         string    `json:"status"`
	SourceARN      string    `json:"sourceArn"`
	DestinationARN string    `json:"destinationArn,omitempty"`
	Rate           int       `json:"maxNumberOfMessagesPerSecond,omitempty"`
	Moved          int64     `json:"approximateNumberOfMessagesMoved"`
	ToMove         int64     `json:"approximateNumberOfMessagesToMove"`
	FailureReason  string    `json:"failureReason,omitempty"`
	Started        time.Time `json:"startedTimestamp"`
}

func printTasks(w io.Writer, tasks []backend.MoveTask, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, t := range tasks {
			if err := enc.Encode(jsonTask{t.TaskHandle, t.Status, t.SourceARN, t.DestinationARN, t.MaxNumberOfMessagesPerSecond,
				t.ApproximateNumberOfMessagesMoved, t.ApproximateNumberOfMessagesToMove, t.FailureReason, t.StartedTimestamp.UTC()}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(tasks) == 0 {
		_, err := fmt.Fprintln(w, "no move tasks")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tMOVED\tTO MOVE\tDESTINATION\tSTARTED\tHANDLE")
	for _, t := range tasks {
		dest := t.DestinationARN
		if dest == "" {
			dest = "(source queues)"
		}
		status := t.Status
		if t.FailureReason != "" {
			status += " (" + t.FailureReason + ")"
		}
		handle := t.TaskHandle
		if handle == "" {
			handle = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", status, t.ApproximateNumberOfMessagesMoved, t.ApproximateNumberOfMessagesToMove,
			dest, t.StartedTimestamp.UTC().Format(time.RFC3339), handle)
	}
	return tw.Flush()
}

func newRedriveCancelCmd() *cobra.Command {
	var flags clientFlags
	cmd := &cobra.Command{
		Use:   "cancel HANDLE",
		Short: "Cancel a running move task",
		Long: `Cancel a running move task by its handle (from redrive start or redrive
list) and print how many messages it had moved. Messages already moved stay
where they were moved to. The handle is sent to --endpoint (or
$AWS_ENDPOINT_URL_SQS, $AWS_ENDPOINT_URL, else AWS SQS in $AWS_REGION).`,
		Example: `  postbox redrive cancel AQEB... --endpoint http://127.0.0.1:9324`,
		Args:    exactArgs(1, "a task HANDLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := connect(ctx, flags)
			if err != nil {
				return err
			}
			defer c.Close()
			moved, err := c.svc.CancelMessageMoveTask(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cancelled; %d messages moved\n", moved)
			return nil
		},
	}
	flags.add(cmd)
	return cmd
}
