package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/postbox-go/postbox/backend"
)

// exactArgs, minArgs and rangeArgs are cobra's argument checks whose
// errors are usage errors (exit code 2).
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("want %s; got %d argument(s)", what, len(args))
		}
		return nil
	}
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErrorf("want %s; got %d argument(s)", what, len(args))
		}
		return nil
	}
}

func rangeArgs(lo, hi int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return usageErrorf("want %s; got %d argument(s)", what, len(args))
		}
		return nil
	}
}

// withTarget opens the queue arg names, runs fn and closes the connection.
func withTarget(ctx context.Context, flags clientFlags, arg string, fn func(*target) error) error {
	t, err := openTarget(ctx, flags, arg)
	if err != nil {
		return err
	}
	defer t.Close()
	return fn(t)
}

const queueArgHelp = `QUEUE is a queue URL (http(s)://HOST/ACCOUNT/NAME, file:///DIR?queue=NAME,
mem://NAME) or a queue name, looked up at --endpoint (or $AWS_ENDPOINT_URL_SQS,
$AWS_ENDPOINT_URL, else AWS SQS in $AWS_REGION). A mem:// or file:// URL
opens the queue as backend.Open does in a program: a missing queue is
created, with the attributes the URL gives (mem://jobs?VisibilityTimeout=60);
a file:// directory must exist, except for send and queues create.`

func newQueuesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "queues",
		Aliases: []string{"queue"},
		Short:   "List, create and delete queues; get and set attributes; manage tags",
		Long: `List, create and delete queues, read and change their attributes and tags,
against AWS SQS or any SQS endpoint such as postbox serve.

` + queueArgHelp,
		Example: `  postbox queues list --endpoint http://127.0.0.1:9324
  postbox queues create jobs --attr VisibilityTimeout=60 --tag team=payments
  postbox queues create events.fifo --attr ContentBasedDeduplication=true
  postbox queues attributes get jobs ApproximateNumberOfMessages
  postbox queues attributes set jobs --attr DelaySeconds=5
  postbox queues tags add jobs env=prod
  postbox queues delete jobs`,
		Args: exactArgs(0, "a subcommand"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newQueuesListCmd(), newQueuesCreateCmd(), newQueuesDeleteCmd(), newQueuesAttributesCmd(), newQueuesTagsCmd())
	return cmd
}

func newQueuesListCmd() *cobra.Command {
	var flags clientFlags
	var prefix string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List queue URLs",
		Long: `List the URLs of the queues at the endpoint, one per line, sorted as the
service returns them; --prefix keeps those whose name starts with it.`,
		Example: `  postbox queues list --endpoint http://127.0.0.1:9324
  postbox queues list --prefix jobs
  AWS_REGION=eu-west-1 postbox queues list`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := connect(cmd.Context(), flags)
			if err != nil {
				return err
			}
			defer c.Close()
			out := cmd.OutOrStdout()
			req := backend.ListQueuesRequest{Prefix: prefix, MaxResults: 1000}
			for {
				page, err := c.svc.ListQueues(cmd.Context(), req)
				if err != nil {
					return err
				}
				for _, u := range page.QueueURLs {
					fmt.Fprintln(out, u)
				}
				if page.NextToken == "" {
					return nil
				}
				req.NextToken = page.NextToken
			}
		},
	}
	flags.add(cmd)
	cmd.Flags().StringVar(&prefix, "prefix", "", "list only queues whose name starts with this")
	return cmd
}

func newQueuesCreateCmd() *cobra.Command {
	var flags clientFlags
	var attrs, tags []string
	var fifo bool
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a queue and print its URL",
		Long: `Create a queue with the attributes and tags given, and print its URL. As in
SQS, creating a queue that exists with the same attributes succeeds and
prints its URL; with different attributes it fails with QueueAlreadyExists.
A name ending in .fifo makes a FIFO queue (--fifo says so explicitly).

NAME may also be a queue URL, which names the endpoint and the queue; the
attributes a mem:// or file:// URL gives as query parameters are added to
--attr's, and a file:// directory is created when missing.`,
		Example: `  postbox queues create jobs --endpoint http://127.0.0.1:9324
  postbox queues create jobs --attr VisibilityTimeout=60 --attr MessageRetentionPeriod=86400
  postbox queues create jobs --attr 'RedrivePolicy={"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:jobs-dlq","maxReceiveCount":5}'
  postbox queues create orders.fifo --fifo --attr ContentBasedDeduplication=true --tag team=payments`,
		Args: exactArgs(1, "a queue NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := parsePairs("--attr", attrs)
			if err != nil {
				return err
			}
			tg, err := parsePairs("--tag", tags)
			if err != nil {
				return err
			}
			c, name, err := connectCreate(cmd.Context(), flags, args[0], a)
			if err != nil {
				return err
			}
			defer c.Close()
			isFIFO := backend.IsFIFOName(name)
			if fifo && !isFIFO {
				return usageErrorf("a FIFO queue's name ends in .fifo: %s.fifo, not %s", name, name)
			}
			if isFIFO {
				if _, set := a["FifoQueue"]; !set {
					a["FifoQueue"] = "true"
				}
			}
			if len(tg) == 0 {
				tg = nil
			}
			u, err := c.svc.CreateQueue(cmd.Context(), name, backend.Attributes(a), tg)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), u)
			return nil
		},
	}
	flags.add(cmd)
	f := cmd.Flags()
	f.StringArrayVar(&attrs, "attr", nil, "queue attribute NAME=VALUE (repeatable), e.g. VisibilityTimeout=60")
	f.StringArrayVar(&tags, "tag", nil, "tag KEY=VALUE (repeatable)")
	f.BoolVar(&fifo, "fifo", false, "create a FIFO queue (the name must end in .fifo)")
	return cmd
}

func newQueuesDeleteCmd() *cobra.Command {
	var flags clientFlags
	cmd := &cobra.Command{
		Use:   "delete QUEUE",
		Short: "Delete a queue and its messages",
		Long: `Delete a queue and every message in it.

` + queueArgHelp,
		Example: `  postbox queues delete jobs --endpoint http://127.0.0.1:9324
  postbox queues delete https://sqs.eu-west-1.amazonaws.com/123456789012/jobs`,
		Args: exactArgs(1, "a QUEUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTarget(cmd.Context(), flags, args[0], func(t *target) error {
				if err := t.svc.DeleteQueue(cmd.Context(), t.url); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "deleted", t.url)
				return nil
			})
		},
	}
	flags.add(cmd)
	return cmd
}

func newQueuesAttributesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "attributes",
		Aliases: []string{"attrs"},
		Short:   "Get or set queue attributes",
		Long: `Get or set queue attributes by their SQS names (VisibilityTimeout,
DelaySeconds, RedrivePolicy, ApproximateNumberOfMessages, ...).`,
		Example: `  postbox queues attributes get jobs
  postbox queues attributes set jobs --attr VisibilityTimeout=120`,
		Args: exactArgs(0, "a subcommand"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}

	var getFlags clientFlags
	var asJSON bool
	get := &cobra.Command{
		Use:   "get QUEUE [NAME...]",
		Short: "Print queue attributes",
		Long: `Print the named attributes of a queue (every attribute when none is named),
one NAME VALUE line each, sorted by name; --json prints one JSON object.

` + queueArgHelp,
		Example: `  postbox queues attributes get jobs
  postbox queues attributes get jobs ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible
  postbox queues attributes get jobs --json | jq -r .QueueArn`,
		Args: minArgs(1, "a QUEUE and attribute names"),
		RunE: func(cmd *cobra.Command, args []string) error {
			names := args[1:]
			if len(names) == 0 {
				names = []string{"All"}
			}
			return withTarget(cmd.Context(), getFlags, args[0], func(t *target) error {
				attrs, err := t.svc.GetAttributes(cmd.Context(), t.url, names)
				if err != nil {
					return err
				}
				return printMap(cmd.OutOrStdout(), attrs, asJSON)
			})
		},
	}
	getFlags.add(get)
	get.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")

	var setFlags clientFlags
	var setAttrs []string
	set := &cobra.Command{
		Use:   "set QUEUE --attr NAME=VALUE...",
		Short: "Change queue attributes",
		Long: `Change queue attributes, each given with --attr NAME=VALUE as to queues
create. Either every attribute given is set, or, when one is invalid, none
is. (The older form, NAME=VALUE arguments after QUEUE, still works and
prints a note; it will go.)

` + queueArgHelp,
		Example: `  postbox queues attributes set jobs --attr VisibilityTimeout=120 --attr DelaySeconds=0
  postbox queues attributes set jobs --attr 'RedrivePolicy={"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:jobs-dlq","maxReceiveCount":3}'`,
		Args: minArgs(1, "a QUEUE and --attr NAME=VALUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				fmt.Fprintf(cmd.ErrOrStderr(), "postbox: note: NAME=VALUE arguments are deprecated; use --attr %s\n", strings.Join(args[1:], " --attr "))
			}
			attrs, err := parsePairs("--attr", append(setAttrs, args[1:]...))
			if err != nil {
				return err
			}
			if len(attrs) == 0 {
				return usageErrorf("no attribute to set: give --attr NAME=VALUE")
			}
			return withTarget(cmd.Context(), setFlags, args[0], func(t *target) error {
				return t.svc.SetAttributes(cmd.Context(), t.url, backend.Attributes(attrs))
			})
		},
	}
	set.Flags().StringArrayVar(&setAttrs, "attr", nil, "queue attribute NAME=VALUE (repeatable), e.g. VisibilityTimeout=60")
	setFlags.add(set)
	cmd.AddCommand(get, set)
	return cmd
}

func newQueuesTagsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tags",
		Short: "List, add and remove queue tags",
		Long:  `List, add and remove a queue's tags (cost allocation labels).`,
		Example: `  postbox queues tags list jobs
  postbox queues tags add jobs team=payments env=prod
  postbox queues tags remove jobs env`,
		Args: exactArgs(0, "a subcommand"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}

	var listFlags clientFlags
	var asJSON bool
	list := &cobra.Command{
		Use:   "list QUEUE",
		Short: "Print a queue's tags",
		Long: `Print a queue's tags, one KEY VALUE line each, sorted by key; --json prints
one JSON object.

` + queueArgHelp,
		Example: `  postbox queues tags list jobs
  postbox queues tags list jobs --json`,
		Args: exactArgs(1, "a QUEUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTarget(cmd.Context(), listFlags, args[0], func(t *target) error {
				tags, err := t.svc.ListTags(cmd.Context(), t.url)
				if err != nil {
					return err
				}
				return printMap(cmd.OutOrStdout(), tags, asJSON)
			})
		},
	}
	listFlags.add(list)
	list.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")

	var addFlags clientFlags
	add := &cobra.Command{
		Use:     "add QUEUE KEY=VALUE...",
		Short:   "Add or replace tags",
		Long:    "Add tags to a queue, replacing the values of keys it already has.\n\n" + queueArgHelp,
		Example: `  postbox queues tags add jobs team=payments env=prod`,
		Args:    minArgs(2, "a QUEUE and KEY=VALUE pairs"),
		RunE: func(cmd *cobra.Command, args []string) error {
			tags, err := parsePairs("tag", args[1:])
			if err != nil {
				return err
			}
			return withTarget(cmd.Context(), addFlags, args[0], func(t *target) error {
				return t.svc.TagQueue(cmd.Context(), t.url, tags)
			})
		},
	}
	addFlags.add(add)

	var removeFlags clientFlags
	remove := &cobra.Command{
		Use:     "remove QUEUE KEY...",
		Aliases: []string{"rm"},
		Short:   "Remove tags by key",
		Long:    "Remove tags from a queue by key; removing a key it does not have succeeds.\n\n" + queueArgHelp,
		Example: `  postbox queues tags remove jobs env team`,
		Args:    minArgs(2, "a QUEUE and tag keys"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTarget(cmd.Context(), removeFlags, args[0], func(t *target) error {
				return t.svc.UntagQueue(cmd.Context(), t.url, args[1:])
			})
		},
	}
	removeFlags.add(remove)
	cmd.AddCommand(list, add, remove)
	return cmd
}

// printMap prints m as sorted "KEY VALUE" lines, or as one JSON object.
func printMap[M ~map[string]string](w io.Writer, m M, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]string(m))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(tw, "%s\t%s\n", k, strings.ReplaceAll(m[k], "\n", " "))
	}
	return tw.Flush()
}
