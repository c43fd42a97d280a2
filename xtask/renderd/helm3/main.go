// helm3-renderd renders charts as Helm v3's `helm template` does, many times
// in one process (protocol and output assembly: package serve). It is built
// from Helm's own pkg/action at the version `cargo xtask setup` pins, and
// `cargo xtask renderer-check` compares its answers with the CLI's on every
// case.
package main

import (
	"fmt"
	"io"
	"log"

	"heimdall-chart/renderd/serve"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/release"
)

func main() {
	serve.Main(serve.Helm{Name: "helm3-renderd", Render: render, Lint: lint, LogTo: logTo})
}

// charts keeps the charts render loaded; rendering never changes a chart without dependencies.
var charts = serve.Charts[*chart.Chart]{
	Load:     loader.Load,
	Reusable: func(c *chart.Chart) bool { return len(c.Metadata.Dependencies) == 0 && len(c.Dependencies()) == 0 },
}

// render follows the v3 CLI's template command (client-only dry-run install).
func render(t *serve.Template, warnings io.Writer) (*serve.Rendered, error) {
	client := action.NewInstall(&action.Configuration{})
	kubeVersion, err := parseKubeVersion(t.KubeVersion)
	if err != nil {
		return nil, err
	}
	client.KubeVersion = kubeVersion
	client.DryRun, client.DryRunOption = true, "true"
	client.Replace, client.ClientOnly = true, true
	client.DisableHooks = t.NoHooks
	client.APIVersions = chartutil.VersionSet(t.APIVersions)
	client.IncludeCRDs = t.IncludeCRDs
	client.SkipSchemaValidation = t.SkipSchemaValidation
	client.Namespace = t.Namespace
	name, chartRef, err := client.NameAndChart(t.Args)
	if err != nil {
		return nil, err
	}
	client.ReleaseName = name
	vals, err := mergedValues(t)
	if err != nil {
		return nil, err
	}
	chrt, err := charts.Get(chartRef)
	if err != nil {
		return nil, err
	}
	if typ := chrt.Metadata.Type; typ != "" && typ != "application" {
		return nil, fmt.Errorf("%s charts are not installable", typ)
	}
	if chrt.Metadata.Deprecated {
		fmt.Fprintln(warnings, "WARNING: This chart is deprecated")
	}
	if req := chrt.Metadata.Dependencies; req != nil {
		if err := action.CheckDependencies(chrt, req); err != nil {
			return nil, fmt.Errorf("An error occurred while checking for chart dependencies. You may need to run `helm dependency build` to fetch missing dependencies: %w", err)
		}
	}
	rel, err := client.Run(chrt, vals)
	if rel == nil {
		return nil, err
	}
	out := &serve.Rendered{Manifest: rel.Manifest}
	for _, h := range rel.Hooks {
		out.Hooks = append(out.Hooks, serve.Hook{Path: h.Path, Manifest: h.Manifest, Test: isTest(h.Events)})
	}
	return out, err
}

func isTest(events []release.HookEvent) bool {
	for _, e := range events {
		if e == release.HookTest {
			return true
		}
	}
	return false
}

// mergedValues merges the request's values files and --set flags as the CLI does.
func mergedValues(t *serve.Template) (map[string]interface{}, error) {
	opts := values.Options{ValueFiles: t.ValueFiles, Values: t.Set, StringValues: t.SetString, FileValues: t.SetFile, JSONValues: t.SetJSON, LiteralValues: t.SetLiteral}
	return opts.MergeValues(getter.All(cli.New()))
}

// lint follows the v3 CLI's lint command for one chart path.
func lint(t *serve.Template, path string) (*serve.Linted, error) {
	client := action.NewLint()
	client.Strict = t.Strict
	kubeVersion, err := parseKubeVersion(t.KubeVersion)
	if err != nil {
		return nil, err
	}
	client.KubeVersion = kubeVersion
	client.Namespace = t.Namespace
	vals, err := mergedValues(t)
	if err != nil {
		return nil, err
	}
	result := client.Run([]string{path}, vals)
	out := &serve.Linted{}
	for _, m := range result.Messages {
		out.Messages = append(out.Messages, m.Error())
	}
	for _, e := range result.Errors {
		out.Errors = append(out.Errors, e.Error())
	}
	return out, nil
}

// logTo sends Helm's log lines to w with the flags the v3 CLI sets (file:line prefix).
func logTo(w io.Writer) {
	log.SetFlags(log.Lshortfile)
	log.SetOutput(w)
}

// parseKubeVersion reads --kube-version as the CLI does; nil (Helm's default) when it is not given.
func parseKubeVersion(v string) (*chartutil.KubeVersion, error) {
	if v == "" {
		return nil, nil
	}
	parsed, err := chartutil.ParseKubeVersion(v)
	if err != nil {
		return nil, fmt.Errorf("invalid kube version '%s': %s", v, err)
	}
	return parsed, nil
}
