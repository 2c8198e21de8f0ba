package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	cases := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"a dirty clone", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261208000343-e9195193ecb9+dirty"},
			Settings: settings("GOOS", "linux", "GOARCH", "amd64", "vcs", "git", "vcs.revision", "e9195193ecb9c22dc2985f1add70d8f7b4fe85cc",
				"vcs.time", "2026-12-08T00:03:43Z", "vcs.modified", "true")},
			true, "postbox v0.0.0-20261208000343-e9195193ecb9+dirty\n" +
				"commit e9195193ecb9c22dc2985f1add70d8f7b4fe85cc (2026-12-08T00:03:43Z), with uncommitted changes\n" +
				"go1.26.8 linux/amd64"},
		{"a clean clone", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: settings("vcs.revision", "86902fb", "vcs.modified", "false")},
			true, "postbox (devel)\ncommit 86902fb\ngo1.26.8"},
		{"go install @version", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"},
			Settings: settings("GOOS", "darwin", "GOARCH", "arm64")},
			true, "postbox v1.2.3\ncommit unknown (built without VCS information: outside a git clone (Go does not read a git worktree), or with -buildvcs=false)\n" +
				"go1.26.8 darwin/arm64"},
		{"no build information", nil, false, "postbox (unknown version: the binary carries no build information)"},
	}
	for _, c := range cases {
		if got := versionText(c.bi, c.ok); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

// TestVersionCommands runs postbox version and postbox --version, which
// print the test binary's own build information.
func TestVersionCommands(t *testing.T) {
	want := versionText(debug.ReadBuildInfo())
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, _, err := runCLI(t.Context(), args...)
		if err != nil || out != want+"\n" || !strings.HasPrefix(out, "postbox ") {
			t.Errorf("postbox %s = %q, %v; want %q", args[0], out, err, want)
		}
	}
}
