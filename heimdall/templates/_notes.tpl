{{/*
What NOTES.txt needs beyond the values: links to the docs it names.
*/}}

{{/*
Where a doc of the chart's repository is, for NOTES: a link at the release's
tag when the chart was packaged for release (`cargo xtask package
--source-url` writes the `docs` annotation into Chart.yaml), else the path in
the checkout the chart was installed from. Pass the path from the
repository's root; tests/tidy.rs checks that each one NOTES names exists.
Usage: {{ include "heimdall.notes.docLink" (dict "root" $ "path" "docs/secrets-management.md") }}
*/}}
{{- define "heimdall.notes.docLink" -}}
  {{- $docs := "" }}
  {{- with .root.Chart.Annotations }}{{ $docs = index . "docs" | default "" }}{{ end }}
  {{- if $docs -}}
    {{- printf "%s/%s" (trimSuffix "/" $docs) (trimPrefix "docs/" .path) -}}
  {{- else -}}
    {{- printf "%s in the chart's repository" .path -}}
  {{- end -}}
{{- end }}
