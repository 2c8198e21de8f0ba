// Command postbox is postbox's one binary: a local SQS-compatible queue
// server, and commands to run, inspect and repair queues on AWS SQS and
// postbox serve alike. Its subcommands:
//
//	postbox serve     serve the native engine over the SQS wire protocol
//	postbox queues    list, create, delete queues; attributes; tags
//	postbox send      send a message, or every line of a file as a message
//	postbox receive   receive (and optionally delete) messages
//	postbox peek      look at messages without receiving them
//	postbox purge     delete every message of a queue
//	postbox redrive   start, list and cancel dead-letter move tasks
//	postbox bench     generate load and report throughput and latency
//	postbox version   print the version and commit (also postbox --version)
//
// Run "postbox help <command>" for a command's flags; docs/cli.md describes
// them all, with the exit codes.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	_ "github.com/postbox-go/postbox/backend/awssqs" // http:// and https:// queue URLs
	_ "github.com/postbox-go/postbox/backend/native" // mem:// and file:// queue URLs
)

func main() {
	// The one place that handles signals: SIGINT or SIGTERM cancels the
	// context, and each command shuts down gracefully when it ends.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cmd, err := newRootCmd().ExecuteContextC(ctx)
	code := exitCode(ctx, err)
	stop()
	if err != nil {
		line := errorLine(err)
		if code == exitUsage && cmd != nil {
			line += " (see '" + cmd.CommandPath() + " --help')"
		}
		fmt.Fprintln(os.Stderr, line)
	}
	os.Exit(code)
}

// rootLong is postbox --help's text.
const rootLong = `postbox runs, inspects and repairs SQS queues from the terminal: on AWS SQS,
on postbox serve (postbox's own SQS-compatible server), and on the in-process
engine (file:// and mem:// queue URLs). The same commands work on all of
them.

Queues are named by URL or by name:
  https://sqs.eu-west-1.amazonaws.com/123456789012/jobs   AWS SQS
  http://127.0.0.1:9324/000000000000/jobs                 postbox serve
  file:///var/lib/postbox?queue=jobs                      a durable engine directory
  mem://jobs                                              this process's engine
  jobs                                                    looked up at --endpoint

Environment:
  AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL
        the endpoint for queue names when --endpoint is not given
  AWS_REGION, AWS_DEFAULT_REGION
        the AWS region, when neither is given (AWS SQS's regional endpoint)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ...
        credentials, from the usual AWS chain (environment, ~/.aws files,
        SSO, container and instance roles); for an endpoint that is not AWS,
        placeholders are used when the chain finds none

` + exitCodesHelp

// newRootCmd returns the postbox command with its subcommands.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "postbox",
		Short: "SQS workers in Go, and a local SQS-compatible queue server",
		Long:  rootLong,
		Example: `  postbox serve &
  export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9324
  postbox queues create jobs
  postbox send jobs 'hello'
  postbox receive jobs --delete
  postbox bench jobs --mode cycle --duration 10s`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildVersion(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newServeCmd())
	root.AddCommand(newQueuesCmd(), newSendCmd(), newReceiveCmd(), newPeekCmd(), newPurgeCmd(),
		newRedriveCmd(), newBenchCmd(), newVersionCmd(), newGenDocsCmd())
	addQueueCompletion(root)
	return root
}
