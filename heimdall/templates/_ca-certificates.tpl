{{/*
Extra CA certificates (caCertificates): whether they are on, their ConfigMap's name, and the check of the PEM entries.
*/}}

{{/*
"true" when extra CA certificates are configured.
Usage: {{ include "heimdall.caCertificates.enabled" . }}
*/}}
{{- define "heimdall.caCertificates.enabled" -}}
  {{- if or .Values.caCertificates.existingConfigMap .Values.caCertificates.certificates }}true{{ end }}
{{- end }}

{{/*
Name of the ConfigMap of extra CA certificates the pods mount.
Usage: {{ include "heimdall.caCertificates.configMapName" . }}
*/}}
{{- define "heimdall.caCertificates.configMapName" -}}
  {{- default (printf "%s-ca-certificates" (include "heimdall.fullname" .)) .Values.caCertificates.existingConfigMap }}
{{- end }}

{{/*
Records a problem for each entry of caCertificates.certificates that is not a PEM certificate (the chart renders them only without existingConfigMap).
Usage: {{ include "heimdall.caCertificates.validate" . }}
*/}}
{{- define "heimdall.caCertificates.validate" -}}
  {{- if not .Values.caCertificates.existingConfigMap }}
    {{- range $name, $pem := .Values.caCertificates.certificates }}
      {{- if not (contains "-----BEGIN CERTIFICATE-----" $pem) }}
        {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "caCertificates.certificates.%s is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)" $name)) }}
      {{- end }}
    {{- end }}
  {{- end }}
{{- end }}
