// Package serve is what helm3-renderd and helm4-renderd share: the
// line-delimited JSON protocol, the `helm template` flags test-chart uses, and
// the CLI's output assembly. Each renderer supplies only the render itself,
// through its own Helm major's pkg/action.
package serve

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// Template holds the parsed flags and arguments of one `helm template` request.
type Template struct {
	Namespace, KubeVersion          string
	APIVersions, ValueFiles         []string
	Set, SetString, SetFile         []string
	SetJSON, SetLiteral             []string
	NoHooks, IncludeCRDs, SkipTests bool
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

type request struct {
	ID   int      `json:"id"`
	Args []string `json:"args"`
}

type response struct {
	ID     int    `json:"id"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Exit   int    `json:"exit"`
}

// Main answers requests from stdin until it closes.
func Main(name string, render Render) {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintf(os.Stderr, "%s: bad request: %v\n", name, err)
			os.Exit(2)
		}
		if err := out.Encode(answer(name, req, render)); err != nil {
			os.Exit(2)
		}
	}
}

func answer(name string, req request, render Render) response {
	var stdout, stderr bytes.Buffer
	resp := response{ID: req.ID}
	if err := template(name, req.Args, render, &stdout, &stderr); err != nil {
		// What cobra prints for a failed command, and the CLI's exit status.
		fmt.Fprintf(&stderr, "Error: %s\n", err)
		resp.Exit = 1
	}
	resp.Stdout, resp.Stderr = stdout.String(), stderr.String()
	return resp
}

func template(name string, args []string, render Render, out, warnings io.Writer) error {
	if len(args) == 0 || args[0] != "template" {
		return fmt.Errorf("%s serves only \"template\", not %q", name, args)
	}
	t, err := parse(args[1:])
	if err != nil {
		return err
	}
	rel, err := render(t, warnings)
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

// parse reads the flags test-chart passes, with the CLI's flag types (slice or array).
func parse(args []string) (*Template, error) {
	t := &Template{}
	f := pflag.NewFlagSet("template", pflag.ContinueOnError)
	f.SetOutput(io.Discard)
	f.StringVarP(&t.Namespace, "namespace", "n", "", "")
	f.StringVar(&t.KubeVersion, "kube-version", "", "")
	f.StringSliceVarP(&t.APIVersions, "api-versions", "a", []string{}, "")
	f.StringSliceVarP(&t.ValueFiles, "values", "f", []string{}, "")
	f.StringArrayVar(&t.Set, "set", []string{}, "")
	f.StringArrayVar(&t.SetString, "set-string", []string{}, "")
	f.StringArrayVar(&t.SetFile, "set-file", []string{}, "")
	f.StringArrayVar(&t.SetJSON, "set-json", []string{}, "")
	f.StringArrayVar(&t.SetLiteral, "set-literal", []string{}, "")
	f.BoolVar(&t.NoHooks, "no-hooks", false, "")
	f.BoolVar(&t.IncludeCRDs, "include-crds", false, "")
	f.BoolVar(&t.SkipTests, "skip-tests", false, "")
	if err := f.Parse(args); err != nil {
		return nil, err
	}
	t.Args = f.Args()
	if t.Namespace == "" {
		t.Namespace = "default"
	}
	return t, nil
}
