// Command postbox is postbox's one binary. Its subcommands:
//
//	postbox serve    serve the native engine over the SQS wire protocol
//
// Run "postbox help <command>" for a command's flags.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	// The one place that handles signals: SIGINT or SIGTERM cancels the
	// context, and each command shuts down gracefully when it ends.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "postbox:", err)
		os.Exit(1)
	}
}

// newRootCmd returns the postbox command with its subcommands.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "postbox",
		Short:         "SQS workers in Go, and a local SQS-compatible queue server",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd())
	return root
}
