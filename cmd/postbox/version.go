package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// versionText is what postbox version and postbox --version print, from
// the build information the Go toolchain puts into the binary: the module
// version (vX.Y.Z for go install ...@vX.Y.Z; in a git clone a
// pseudo-version of the commit, +dirty with uncommitted changes; "(devel)"
// without VCS information), the VCS commit (vcs.revision), its time and
// whether the checkout had uncommitted changes (vcs.modified), and the Go
// version and platform. go build stamps the VCS settings in a git clone
// unless -buildvcs=false.
func versionText(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "postbox (unknown version: the binary carries no build information)"
	}
	version := bi.Main.Version
	if version == "" {
		version = "(unknown)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	var b strings.Builder
	fmt.Fprintf(&b, "postbox %s\n", version)
	if rev := settings["vcs.revision"]; rev != "" {
		fmt.Fprintf(&b, "commit %s", rev)
		if t := settings["vcs.time"]; t != "" {
			fmt.Fprintf(&b, " (%s)", t)
		}
		if settings["vcs.modified"] == "true" {
			b.WriteString(", with uncommitted changes")
		}
		b.WriteString("\n")
	} else {
		b.WriteString("commit unknown (built without VCS information: outside a git clone (Go does not read a git worktree), or with -buildvcs=false)\n")
	}
	b.WriteString(bi.GoVersion)
	if settings["GOOS"] != "" {
		fmt.Fprintf(&b, " %s/%s", settings["GOOS"], settings["GOARCH"])
	}
	return b.String()
}

// buildVersion is versionText of the running binary.
func buildVersion() string { return versionText(debug.ReadBuildInfo()) }

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print postbox's version and commit",
		Long: `Print the version of this postbox binary: the module version (vX.Y.Z when
installed with go install ...@vX.Y.Z; built in a git clone, a pseudo-version
of the commit, with +dirty for uncommitted changes; "(devel)" when built
without VCS information), the commit it was built from, with its time and
whether the checkout had uncommitted changes, and the Go version and
platform. postbox --version prints the same.`,
		Example: `  postbox version
  postbox --version`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), buildVersion())
			return err
		},
	}
}
