package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/postbox-go/postbox/backend"
)

// addQueueCompletion makes the shell complete queue names, asked of the
// endpoint, for every command whose first argument is a queue, and for
// redrive start's --source and --destination.
func addQueueCompletion(cmd *cobra.Command) {
	if f := strings.Fields(cmd.Use); len(f) > 1 {
		switch strings.Trim(f[1], "[]") {
		case "QUEUE", "DLQ":
			cmd.ValidArgsFunction = completeQueueArg
		}
	}
	for _, name := range []string{"source", "destination"} {
		if cmd.Flags().Lookup(name) != nil {
			cmd.RegisterFlagCompletionFunc(name, func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return completeQueues(cmd, toComplete)
			})
		}
	}
	for _, sub := range cmd.Commands() {
		addQueueCompletion(sub)
	}
}

// completeQueueArg completes the first argument with queue names.
func completeQueueArg(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return completeQueues(cmd, toComplete)
}

// completeQueues lists the names of the endpoint's queues that start with
// prefix; it gives up quietly after a few seconds or on any error.
func completeQueues(cmd *cobra.Command, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if strings.Contains(prefix, "://") {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	endpoint, _ := cmd.Flags().GetString("endpoint")
	parent := cmd.Context()
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, 3*time.Second)
	defer cancel()
	c, err := connect(ctx, clientFlags{endpoint: endpoint})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer c.Close()
	page, err := c.svc.ListQueues(ctx, backend.ListQueuesRequest{Prefix: prefix, MaxResults: 1000})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names := make([]cobra.Completion, 0, len(page.QueueURLs))
	for _, u := range page.QueueURLs {
		names = append(names, u[strings.LastIndexByte(u, '/')+1:])
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
