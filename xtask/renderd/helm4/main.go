// helm4-renderd renders charts as Helm v4's `helm template` does, many times
// in one process (protocol and output assembly: package serve). It is built
// from Helm's own pkg/action at the version `cargo xtask setup` pins, and
// `cargo xtask renderer-check` compares its answers with the CLI's on every
// case.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"slices"

	"heimdall-chart/renderd/serve"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/loader"
	"helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/cli/values"
	"helm.sh/helm/v4/pkg/getter"
	release "helm.sh/helm/v4/pkg/release/v1"
)

func main() {
	serve.Main(serve.Helm{Name: "helm4-renderd", Render: render, Lint: lint, LogTo: logTo})
}

// charts keeps the charts render loaded; rendering never changes a chart without dependencies.
var charts = serve.Charts[chart.Charter]{
	Load: loader.Load,
	Reusable: func(c chart.Charter) bool {
		ac, err := chart.NewAccessor(c)
		return err == nil && len(ac.MetaDependencies()) == 0 && len(ac.Dependencies()) == 0
	},
}

// render follows the v4 CLI's template command (client dry-run install).
func render(t *serve.Template, _ io.Writer) (*serve.Rendered, error) {
	client := action.NewInstall(&action.Configuration{})
	kubeVersion, err := parseKubeVersion(t.KubeVersion)
	if err != nil {
		return nil, err
	}
	client.KubeVersion = kubeVersion
	client.DryRunStrategy = action.DryRunClient
	client.Replace = true
	client.DisableHooks = t.NoHooks
	client.APIVersions = common.VersionSet(t.APIVersions)
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
	if err := installable(chrt); err != nil {
		return nil, err
	}
	released, err := client.Run(chrt, vals)
	rel, rerr := asV1Release(released)
	if rerr != nil {
		return nil, rerr
	}
	if rel == nil {
		return nil, err
	}
	out := &serve.Rendered{Manifest: rel.Manifest}
	for _, h := range rel.Hooks {
		out.Hooks = append(out.Hooks, serve.Hook{Path: h.Path, Manifest: h.Manifest, Test: slices.Contains(h.Events, release.HookTest)})
	}
	return out, err
}

// installable applies the CLI's checks before rendering: application charts only, dependencies present.
func installable(chrt any) error {
	ac, err := chart.NewAccessor(chrt)
	if err != nil {
		return err
	}
	switch typ := ac.MetadataAsMap()["Type"]; typ {
	case "", "application", nil:
	default:
		return fmt.Errorf("%s charts are not installable", typ)
	}
	if ac.Deprecated() {
		slog.Warn("this chart is deprecated")
	}
	if req := ac.MetaDependencies(); len(req) > 0 {
		if err := action.CheckDependencies(chrt, req); err != nil {
			return fmt.Errorf("an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: %w", err)
		}
	}
	return nil
}

// asV1Release is the release type `helm template` prints from.
func asV1Release(r any) (*release.Release, error) {
	switch v := r.(type) {
	case release.Release:
		return &v, nil
	case *release.Release:
		return v, nil
	case nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("unsupported release type: %T", r)
	}
}

// mergedValues merges the request's values files and --set flags as the CLI does.
func mergedValues(t *serve.Template) (map[string]interface{}, error) {
	opts := values.Options{ValueFiles: t.ValueFiles, Values: t.Set, StringValues: t.SetString, FileValues: t.SetFile, JSONValues: t.SetJSON, LiteralValues: t.SetLiteral}
	return opts.MergeValues(getter.All(cli.New()))
}

// lint follows the v4 CLI's lint command for one chart path.
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

// logTo sends Helm's slog records to w as the v4 CLI's logger writes them
// without --debug: text, no time, debug records dropped.
func logTo(w io.Writer) {
	handler := slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelInfo,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	slog.SetDefault(slog.New(handler))
}

// parseKubeVersion reads --kube-version as the CLI does; nil (Helm's default) when it is not given.
func parseKubeVersion(v string) (*common.KubeVersion, error) {
	if v == "" {
		return nil, nil
	}
	parsed, err := common.ParseKubeVersion(v)
	if err != nil {
		return nil, fmt.Errorf("invalid kube version '%s': %w", v, err)
	}
	return parsed, nil
}
