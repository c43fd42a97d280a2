{{/*
The chart's data tables (files/tables.yaml), read once per render and kept on
the root context.
*/}}

{{/*
The tables of files/tables.yaml as JSON: one map, a key per table.
Usage: {{ include "heimdall.tables.json" $ | fromJson }}
*/}}
{{- define "heimdall.tables.json" -}}
  {{- if not (hasKey $ "heimdallTables") }}
    {{- $tables := .Files.Get "files/tables.yaml" | fromYaml }}
    {{- if or (not $tables) (hasKey $tables "Error") }}
      {{- /* The chart's own file, not a value: a broken chart fails at once. */}}
      {{- fail (printf "the chart's files/tables.yaml is missing or not YAML: %s" (get ($tables | default dict) "Error" | default "empty")) }}
    {{- end }}
    {{- $_ := set $ "heimdallTables" $tables }}
  {{- end }}
  {{- get $ "heimdallTables" | toJson }}
{{- end }}
