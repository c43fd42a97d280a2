{{/*
Labels and annotations: each component's labels and pod selectors, pod
template labels and annotations with the common ones, and the check that
common metadata does not take the chart's own keys.
*/}}

{{/*
Labels of the Heimdall server's objects.
Usage: {{ include "heimdall.metadata.serverLabels" . }}
*/}}
{{- define "heimdall.metadata.serverLabels" -}}
{{ include "heimdall.labels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/*
Labels that select the Heimdall server's pods.
Usage: {{ include "heimdall.metadata.serverSelectorLabels" . }}
*/}}
{{- define "heimdall.metadata.serverSelectorLabels" -}}
{{ include "heimdall.selectorLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/*
Labels that select the `helm test` Pod.
Usage: {{ include "heimdall.metadata.testSelectorLabels" . }}
*/}}
{{- define "heimdall.metadata.testSelectorLabels" -}}
{{ include "heimdall.selectorLabels" . }}
app.kubernetes.io/component: test
{{- end }}

{{/*
Labels of the embedded database's objects.
Usage: {{ include "heimdall.metadata.postgresqlLabels" . }}
*/}}
{{- define "heimdall.metadata.postgresqlLabels" -}}
{{ include "heimdall.labels" . }}
app.kubernetes.io/component: database
{{- end }}

{{/*
Labels that select the embedded database's pod.
Usage: {{ include "heimdall.metadata.postgresqlSelectorLabels" . }}
*/}}
{{- define "heimdall.metadata.postgresqlSelectorLabels" -}}
{{ include "heimdall.selectorLabels" . }}
app.kubernetes.io/component: database
{{- end }}

{{/*
Labels of a pod template: the object's labels (pass its labels define's
output), then the values' podLabels, which win over commonLabels on the same
key. Pass (dict "labels" (include "heimdall.metadata.serverLabels" $) "podLabels" .Values.podLabels).
Usage: {{ include "heimdall.metadata.podTemplateLabels" (dict "labels" (include "heimdall.metadata.serverLabels" .) "podLabels" .Values.podLabels) }}
*/}}
{{- define "heimdall.metadata.podTemplateLabels" -}}
  {{- if .podLabels }}
    {{- $labels := .labels | fromYaml }}
    {{- range $key, $value := .podLabels }}
      {{- $_ := set $labels $key $value }}
    {{- end }}
    {{- toYaml $labels }}
  {{- else }}
    {{- .labels }}
  {{- end }}
{{- end }}

{{/*
Annotations of an object: its own, then commonAnnotations on the keys it does
not set; empty when both are. Pass (dict "root" $ "own" <map, or nil>).
Usage: {{ include "heimdall.metadata.annotations" (dict "root" . "own" nil) }}
*/}}
{{- define "heimdall.metadata.annotations" -}}
  {{- $all := merge (deepCopy (.own | default dict)) .root.Values.commonAnnotations }}
  {{- with $all }}
    {{- toYaml . }}
  {{- end }}
{{- end }}

{{/*
Records a problem when commonLabels or a podLabels sets a label the chart sets itself
(selectors, `helm list` filters and dashboards depend on them), or
commonAnnotations sets a hook annotation, which would make every object a
hook that Helm deletes after install.
Usage: {{ include "heimdall.metadata.validate" . }}
*/}}
{{- define "heimdall.metadata.validate" -}}
  {{- $owned := (include "heimdall.tables.json" $ | fromJson).chartOwnedLabels }}
  {{- range $value, $labels := dict "commonLabels" .Values.commonLabels "podLabels" .Values.podLabels "postgresql.podLabels" .Values.postgresql.podLabels }}
    {{- range $key, $_ := $labels }}
      {{- if has $key $owned }}
        {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "%s.%s: the chart sets this label itself and its selectors depend on it; remove it from %s, or use a key of your own (e.g. example.com/team)" $value $key $value)) }}
      {{- end }}
    {{- end }}
  {{- end }}
  {{- range $key, $_ := .Values.commonAnnotations }}
    {{- if or (hasPrefix "helm.sh/hook" $key) (hasPrefix "argocd.argoproj.io/hook" $key) }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "commonAnnotations.%s: a hook annotation on every object would make each one a hook; set it only on the objects that need it (e.g. in extraObjects)" $key)) }}
    {{- end }}
  {{- end }}
{{- end }}
