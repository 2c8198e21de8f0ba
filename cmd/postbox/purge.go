package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newPurgeCmd() *cobra.Command {
	var flags clientFlags
	var yes bool
	cmd := &cobra.Command{
		Use:   "purge QUEUE",
		Short: "Delete every message of a queue",
		Long: `Delete every message of a queue (PurgeQueue). The queue and its attributes
stay. Asks for confirmation on a terminal unless --yes is given; where stdin
is not a terminal (a script, a pipe) it refuses without --yes, with exit
code 2. AWS SQS allows one purge per queue every 60 seconds
(PurgeQueueInProgress otherwise).

` + queueArgHelp,
		Example: `  postbox purge jobs --endpoint http://127.0.0.1:9324
  postbox purge jobs --yes`,
		Args: exactArgs(1, "a QUEUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withTarget(ctx, flags, args[0], func(t *target) error {
				if !yes {
					if !isTerminal(cmd.InOrStdin()) {
						return usageErrorf("refusing to purge %s without confirmation: pass --yes", t.url)
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "Delete every message of %s? [y/N] ", t.url)
					line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
					if err != nil && line == "" {
						return errors.New("purge cancelled")
					}
					if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
						return errors.New("purge cancelled")
					}
				}
				if err := t.svc.Purge(ctx, t.url); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "purged", t.url)
				return nil
			})
		},
	}
	flags.add(cmd)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "purge without asking")
	return cmd
}
