{{/* The database Heimdall connects to: host, port, name and user, embedded or external. */}}

{{/* The database host Heimdall connects to. */}}
{{- define "heimdall.database.host" -}}
  {{- if .Values.postgresql.enabled }}
    {{- include "heimdall.postgresql.fullname" . }}
  {{- else if .Values.externalDatabase.host }}
    {{- .Values.externalDatabase.host }}
  {{- else }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" "externalDatabase.host is required when postgresql.enabled is false: set it to your PostgreSQL server's host name (or set postgresql.enabled=true for the embedded database)") }}
  {{- end }}
{{- end }}

{{/* The database port Heimdall connects to. */}}
{{- define "heimdall.database.port" -}}
  {{- if .Values.postgresql.enabled }}5432{{ else }}{{ .Values.externalDatabase.port | int }}{{ end }}
{{- end }}

{{/* The database name. */}}
{{- define "heimdall.database.name" -}}
  {{- if .Values.postgresql.enabled }}{{ .Values.postgresql.auth.database }}{{ else }}{{ .Values.externalDatabase.database }}{{ end }}
{{- end }}

{{/* The database user name. */}}
{{- define "heimdall.database.username" -}}
  {{- if .Values.postgresql.enabled }}{{ .Values.postgresql.auth.username }}{{ else }}{{ .Values.externalDatabase.username }}{{ end }}
{{- end }}
