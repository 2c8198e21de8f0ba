package main

import (
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

//go:generate go run . gen-docs ../../docs/cli

// newGenDocsCmd is the hidden command that writes the Markdown CLI
// reference (docs/cli/) from the commands themselves.
func newGenDocsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "gen-docs DIR",
		Short: "Write the Markdown command reference into DIR",
		Long: `Write the Markdown command reference, one page per command, into DIR
(created if needed). docs/cli/ is made with it, by go generate.`,
		Example: `  postbox gen-docs docs/cli`,
		Hidden:  true,
		Args:    exactArgs(1, "a DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return genDocs(args[0])
		},
	}
}

// genDocs writes one Markdown page per command into dir.
func genDocs(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root := newRootCmd()
	root.DisableAutoGenTag = true   // no dates: the committed pages stay stable
	root.InitDefaultCompletionCmd() // cobra adds it at Execute; document it too
	return doc.GenMarkdownTree(root, dir)
}
