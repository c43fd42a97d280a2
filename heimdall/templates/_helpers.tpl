{{/*
The helm create scaffold's six helpers, under the scaffold's names: values
rendered through tpl (extraObjects, secrets files) call them, e.g.
{{ include "heimdall.fullname" . }}, so these names are part of the chart's
interface and keep their shape. Every other helper is heimdall.<file>.<name>.
*/}}

{{/*
The chart name, or nameOverride.
Usage: {{ include "heimdall.name" . }}
*/}}
{{- define "heimdall.name" -}}
  {{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every resource name: fullnameOverride, or "<release>-<chart>" (just the release when it already contains the chart name).
Usage: {{ include "heimdall.fullname" . }}
*/}}
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
The helm.sh/chart label value.
Usage: {{ include "heimdall.chart" . }}
*/}}
{{- define "heimdall.chart" -}}
  {{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Recommended labels of every object (without component), then commonLabels (heimdall.metadata.validate refuses the chart's own keys there).
Usage: {{ include "heimdall.labels" . }}
*/}}
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
Labels that select pods (without component).
Usage: {{ include "heimdall.selectorLabels" . }}
*/}}
{{- define "heimdall.selectorLabels" -}}
app.kubernetes.io/name: {{ include "heimdall.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The ServiceAccount the Heimdall pods run as.
Usage: {{ include "heimdall.serviceAccountName" . }}
*/}}
{{- define "heimdall.serviceAccountName" -}}
  {{- if .Values.serviceAccount.create }}
    {{- default (include "heimdall.fullname" .) .Values.serviceAccount.name }}
  {{- else }}
    {{- default "default" .Values.serviceAccount.name }}
  {{- end }}
{{- end }}
