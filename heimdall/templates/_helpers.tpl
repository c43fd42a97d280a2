{{/* Names and labels: the name of every object the chart makes, the labels that select its pods, and the extra objects' text. The secret decision lives in _secrets.tpl. */}}

{{/* The chart name, or nameOverride. */}}
{{- define "heimdall.name" -}}
  {{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every resource name: fullnameOverride, or "<release>-<chart>" (just the release when it already contains the chart name). */}}
{{- define "heimdall.fullname" -}}
  {{- if .Values.fullnameOverride }}
    {{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
  {{- else }}
    {{- $name := default .Chart.Name .Values.nameOverride }}
    {{- if contains $name .Release.Name }}
      {{- .Release.Name | trunc 63 | trimSuffix "-" }}
    {{- else }}
      {{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
The namespace of every object the chart makes: namespaceOverride, or the release's.
Usage: {{ include "heimdall.namespace" . }}
*/}}
{{- define "heimdall.namespace" -}}
  {{- .Values.namespaceOverride | default .Release.Namespace }}
{{- end }}

{{/* The helm.sh/chart label value. */}}
{{- define "heimdall.chart" -}}
  {{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Recommended labels of every object (without component), then commonLabels (heimdall.metadata.validate refuses the chart's own keys there). */}}
{{- define "heimdall.labels" -}}
helm.sh/chart: {{ include "heimdall.chart" . }}
{{ include "heimdall.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: heimdall
  {{- with .Values.commonLabels }}
{{ toYaml . }}
  {{- end }}
{{- end }}

{{/*
Labels of a pod template: the object's labels (pass its labels define's
output), then the values' podLabels, which win over commonLabels on the same
key. Pass (dict "labels" (include "heimdall.server.labels" $) "podLabels" .Values.podLabels).
*/}}
{{- define "heimdall.podTemplateLabels" -}}
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
*/}}
{{- define "heimdall.annotations" -}}
  {{- $all := merge (deepCopy (.own | default dict)) .root.Values.commonAnnotations }}
  {{- with $all }}
    {{- toYaml . }}
  {{- end }}
{{- end }}

{{/* Labels that select pods (without component). */}}
{{- define "heimdall.selectorLabels" -}}
app.kubernetes.io/name: {{ include "heimdall.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of the Heimdall server's objects. */}}
{{- define "heimdall.server.labels" -}}
{{ include "heimdall.labels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/* Labels that select the Heimdall server's pods. */}}
{{- define "heimdall.server.selectorLabels" -}}
{{ include "heimdall.selectorLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/* Labels that select the `helm test` Pod. */}}
{{- define "heimdall.test.selectorLabels" -}}
{{ include "heimdall.selectorLabels" . }}
app.kubernetes.io/component: test
{{- end }}

{{/* Labels of the embedded database's objects. */}}
{{- define "heimdall.postgresql.labels" -}}
{{ include "heimdall.labels" . }}
app.kubernetes.io/component: database
{{- end }}

{{/* Labels that select the embedded database's pod. */}}
{{- define "heimdall.postgresql.selectorLabels" -}}
{{ include "heimdall.selectorLabels" . }}
app.kubernetes.io/component: database
{{- end }}

{{/* The ServiceAccount the Heimdall pods run as. */}}
{{- define "heimdall.serviceAccountName" -}}
  {{- if .Values.serviceAccount.create }}
    {{- default (include "heimdall.fullname" .) .Values.serviceAccount.name }}
  {{- else }}
    {{- default "default" .Values.serviceAccount.name }}
  {{- end }}
{{- end }}

{{/* Name of the ConfigMap of non-secret settings. */}}
{{- define "heimdall.configMapName" -}}
  {{- printf "%s-config" (include "heimdall.fullname" .) }}
{{- end }}

{{/* Name of the ConfigMap of extra CA certificates the pods mount. */}}
{{- define "heimdall.caCertificates.configMapName" -}}
  {{- default (printf "%s-ca-certificates" (include "heimdall.fullname" .)) .Values.caCertificates.existingConfigMap }}
{{- end }}

{{/* Name of the embedded database's StatefulSet and client Service. */}}
{{- define "heimdall.postgresql.fullname" -}}
  {{- printf "%s-postgresql" (include "heimdall.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of the embedded database's headless Service. */}}
{{- define "heimdall.postgresql.headlessName" -}}
  {{- printf "%s-postgresql-hl" (include "heimdall.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* An extraObjects entry (a map, or a string) as YAML text after tpl; pass (dict "entry" $entry "root" $). Read by extra-objects.yaml and checked by heimdall.extraObjects.validate. */}}
{{- define "heimdall.extraObjects.text" -}}
  {{- tpl (ternary .entry (toYaml .entry) (kindIs "string" .entry)) .root }}
{{- end }}
