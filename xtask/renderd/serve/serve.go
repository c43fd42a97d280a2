// Package serve is what helm3-renderd and helm4-renderd share: the
// line-delimited JSON protocol, the `helm template` and `helm lint` flags
// test-chart uses, and the CLI's output assembly. Each renderer supplies only
// the render and the lint themselves, through its own Helm major's pkg/action.
package serve

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// Template holds the parsed flags and arguments of one `helm template` or `helm lint` request.
type Template struct {
	Namespace, KubeVersion          string
	APIVersions, ValueFiles         []string
	Set, SetString, SetFile         []string
	SetJSON, SetLiteral             []string
	NoHooks, IncludeCRDs, SkipTests bool
	SkipSchemaValidation            bool
	Strict                          bool
	Args                            []string
}

// Hook is one hook manifest of a rendered release.
type Hook struct {
	Path, Manifest string
	Test           bool
}

// Rendered is what a release render produced: its manifest and hooks.
type Rendered struct {
	Manifest string
	Hooks    []Hook
}

// Render renders one request; a nil Rendered with an error is a failure before
// rendering, a non-nil one with an error a failure the CLI reports with its
// hint about --debug.
type Render func(t *Template, warnings io.Writer) (*Rendered, error)

// Linted is what linting one chart path found: each message as the CLI prints
// it ("[WARNING] ..."), and the errors that make the chart fail.
type Linted struct {
	Messages, Errors []string
}

// Lint lints one chart path with the request's values.
type Lint func(t *Template, path string) (*Linted, error)

// Helm is one renderer's own half: rendering and linting with its Helm major,
// and pointing that Helm's logging (which the CLI sends to stderr) at a writer.
type Helm struct {
	Name   string
	Render Render
	Lint   Lint
	LogTo  func(w io.Writer)
}

type request struct {
	ID   int      `json:"id"`
	Args []string `json:"args"`
}

type response struct {
	ID     int    `json:"id"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Exit   int    `json:"exit"`
	// CPUMicros is the CPU time (user and system) this process spent on the
	// request, garbage collection included, for `cargo xtask bench`.
	CPUMicros int64 `json:"cpu_us"`
}

// Main answers requests from stdin until it closes. With
// HELM_RENDERD_CPUPROFILE set, it writes a CPU profile of its whole life
// there (one file per process: the variable's value plus the process id),
// for `go tool pprof`.
func Main(h Helm) {
	collectLessOften()
	defer profile(h.Name)()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintf(os.Stderr, "%s: bad request: %v\n", h.Name, err)
			os.Exit(2)
		}
		if err := out.Encode(answer(h, req)); err != nil {
			os.Exit(2)
		}
	}
}

// collectLessOften trades memory for CPU: a render allocates a lot and keeps
// nothing, and with Go's default GOGC=100 about a fifth of a renderer's CPU
// went to garbage collection. A renderer stays a few hundred megabytes at
// most; the soft limit makes the collector work harder before it grows past
// that. An explicit GOGC or GOMEMLIMIT in the environment wins.
func collectLessOften() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(512 << 20)
	}
}

// profile starts the CPU profile HELM_RENDERD_CPUPROFILE asks for and returns what stops it.
func profile(name string) func() {
	prefix := os.Getenv("HELM_RENDERD_CPUPROFILE")
	if prefix == "" {
		return func() {}
	}
	f, err := os.Create(fmt.Sprintf("%s.%s.%d", prefix, name, os.Getpid()))
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: HELM_RENDERD_CPUPROFILE: %v\n", name, err)
		os.Exit(2)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

func answer(h Helm, req request) response {
	var stdout, stderr bytes.Buffer
	resp := response{ID: req.ID}
	start := cpuTime()
	// One request at a time: Helm's log lines land in this request's stderr, as in the CLI's.
	h.LogTo(&stderr)
	defer h.LogTo(os.Stderr)
	if err := command(h, req.Args, &stdout, &stderr); err != nil {
		// What cobra prints for a failed command, and the CLI's exit status.
		fmt.Fprintf(&stderr, "Error: %s\n", err)
		resp.Exit = 1
	}
	resp.Stdout, resp.Stderr = stdout.String(), stderr.String()
	resp.CPUMicros = (cpuTime() - start).Microseconds()
	return resp
}

// cpuTime is the CPU time the process has used so far.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func command(h Helm, args []string, out, warnings io.Writer) error {
	if len(args) == 0 || (args[0] != "template" && args[0] != "lint") {
		return fmt.Errorf("%s serves only \"template\" and \"lint\", not %q", h.Name, args)
	}
	t, err := parse(args[0], args[1:])
	if err != nil {
		return err
	}
	if args[0] == "lint" {
		return lint(h, t, out)
	}
	return template(h, t, out, warnings)
}

// lint prints as the CLI's lint command does (without --quiet or --with-subcharts).
func lint(h Helm, t *Template, out io.Writer) error {
	paths := t.Args
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var message strings.Builder
	failed := 0
	for _, path := range paths {
		result, err := h.Lint(t, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(&message, "==> Linting %s\n", path)
		if len(result.Messages) == 0 {
			for _, e := range result.Errors {
				fmt.Fprintf(&message, "Error %s\n", e)
			}
		}
		for _, m := range result.Messages {
			fmt.Fprintf(&message, "%s\n", m)
		}
		if len(result.Errors) != 0 {
			failed++
		}
		fmt.Fprint(&message, "\n")
	}
	fmt.Fprint(out, message.String())
	summary := fmt.Sprintf("%d chart(s) linted, %d chart(s) failed", len(paths), failed)
	if failed > 0 {
		return errors.New(summary)
	}
	fmt.Fprintln(out, summary)
	return nil
}

func template(h Helm, t *Template, out, warnings io.Writer) error {
	rel, err := h.Render(t, warnings)
	if err != nil {
		if rel != nil {
			return fmt.Errorf("%w\n\nUse --debug flag to render out invalid YAML", err)
		}
		return err
	}
	// As the CLI assembles it: the manifest, then each hook with its source.
	var manifests bytes.Buffer
	fmt.Fprintln(&manifests, strings.TrimSpace(rel.Manifest))
	if !t.NoHooks {
		for _, h := range rel.Hooks {
			if t.SkipTests && h.Test {
				continue
			}
			fmt.Fprintf(&manifests, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
		}
	}
	_, err = fmt.Fprintf(out, "%s", manifests.String())
	return err
}

// parse reads the flags test-chart passes to a command, with the CLI's flag types (slice or array).
func parse(cmd string, args []string) (*Template, error) {
	t := &Template{}
	f := pflag.NewFlagSet(cmd, pflag.ContinueOnError)
	f.SetOutput(io.Discard)
	f.StringVarP(&t.Namespace, "namespace", "n", "", "")
	f.StringVar(&t.KubeVersion, "kube-version", "", "")
	if cmd == "lint" {
		f.BoolVar(&t.Strict, "strict", false, "")
	} else {
		f.StringSliceVarP(&t.APIVersions, "api-versions", "a", []string{}, "")
		f.BoolVar(&t.NoHooks, "no-hooks", false, "")
		f.BoolVar(&t.IncludeCRDs, "include-crds", false, "")
		f.BoolVar(&t.SkipTests, "skip-tests", false, "")
		f.BoolVar(&t.SkipSchemaValidation, "skip-schema-validation", false, "")
	}
	f.StringSliceVarP(&t.ValueFiles, "values", "f", []string{}, "")
	f.StringArrayVar(&t.Set, "set", []string{}, "")
	f.StringArrayVar(&t.SetString, "set-string", []string{}, "")
	f.StringArrayVar(&t.SetFile, "set-file", []string{}, "")
	f.StringArrayVar(&t.SetJSON, "set-json", []string{}, "")
	f.StringArrayVar(&t.SetLiteral, "set-literal", []string{}, "")
	if err := f.Parse(args); err != nil {
		return nil, err
	}
	t.Args = f.Args()
	if t.Namespace == "" {
		t.Namespace = "default"
	}
	return t, nil
}
