// helm4-renderd renders charts as Helm v4's `helm template` does, many times
// in one process (protocol and output assembly: package serve). It is built
// from Helm's own pkg/action at the version `cargo xtask setup` pins, and
// `cargo xtask renderer-check` compares its answers with the CLI's on every
// case.
package main

import (
	"fmt"
	"io"
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
	serve.Main("helm4-renderd", render)
}

// render follows the v4 CLI's template command (client dry-run install).
func render(t *serve.Template, _ io.Writer) (*serve.Rendered, error) {
	client := action.NewInstall(&action.Configuration{})
	if t.KubeVersion != "" {
		parsed, err := common.ParseKubeVersion(t.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("invalid kube version '%s': %w", t.KubeVersion, err)
		}
		client.KubeVersion = parsed
	}
	client.DryRunStrategy = action.DryRunClient
	client.Replace = true
	client.DisableHooks = t.NoHooks
	client.APIVersions = common.VersionSet(t.APIVersions)
	client.IncludeCRDs = t.IncludeCRDs
	client.Namespace = t.Namespace
	name, chartRef, err := client.NameAndChart(t.Args)
	if err != nil {
		return nil, err
	}
	client.ReleaseName = name
	opts := values.Options{ValueFiles: t.ValueFiles, Values: t.Set, StringValues: t.SetString, FileValues: t.SetFile, JSONValues: t.SetJSON, LiteralValues: t.SetLiteral}
	vals, err := opts.MergeValues(getter.All(cli.New()))
	if err != nil {
		return nil, err
	}
	chrt, err := loader.Load(chartRef)
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
		// Helm 4 logs this through its slog handler, whose text this renderer does not reproduce.
		return fmt.Errorf("helm4-renderd: the chart is deprecated, and Helm 4's deprecation warning is not reproduced here; render with --cli")
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
