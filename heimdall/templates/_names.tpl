{{/*
Names: the namespace and the names of the chart's objects that several
templates refer to. The Secrets' names live in _secrets.tpl, the CA bundle's in
_ca-certificates.tpl, the generator's in _secrets-generator.tpl.
*/}}

{{/*
The namespace of every object the chart makes: namespaceOverride, or the release's.
Usage: {{ include "heimdall.names.namespace" . }}
*/}}
{{- define "heimdall.names.namespace" -}}
  {{- .Values.namespaceOverride | default .Release.Namespace }}
{{- end }}

{{/*
Name of the ConfigMap of non-secret settings.
Usage: {{ include "heimdall.names.configMap" . }}
*/}}
{{- define "heimdall.names.configMap" -}}
  {{- printf "%s-config" (include "heimdall.fullname" .) }}
{{- end }}

{{/*
Name of the embedded database's StatefulSet and client Service.
Usage: {{ include "heimdall.names.postgresql" . }}
*/}}
{{- define "heimdall.names.postgresql" -}}
  {{- printf "%s-postgresql" (include "heimdall.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Name of the embedded database's headless Service.
Usage: {{ include "heimdall.names.postgresqlHeadless" . }}
*/}}
{{- define "heimdall.names.postgresqlHeadless" -}}
  {{- printf "%s-postgresql-hl" (include "heimdall.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
