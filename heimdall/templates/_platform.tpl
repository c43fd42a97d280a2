{{/*
The platform: numbers as Kubernetes reads them, probe timings, and OpenShift's security contexts.
*/}}

{{/* A scalar value as text, a whole number in full: Go prints a float64 of 1000000 as 1e+06, and
values files give every number as a float64.
Usage: {{ include "heimdall.platform.text" .Values.image.tag }} */}}
{{- define "heimdall.platform.text" -}}
  {{- if and (kindIs "float64" .) (eq . (float64 (int64 .))) }}{{ int64 . }}{{ else }}{{ toString . }}{{ end }}
{{- end }}

{{/* An IntOrString value as Kubernetes reads it: a percentage as given, a number in full (Go prints a
large float as 1e+06, which YAML reads as a float the API server refuses).
Usage: {{ include "heimdall.platform.intOrPercent" .Values.podDisruptionBudget.maxUnavailable }} */}}
{{- define "heimdall.platform.intOrPercent" -}}
  {{- if kindIs "string" . }}{{ . }}{{ else }}{{ . | int }}{{ end }}
{{- end }}

{{/*
The timing fields of a probe from its values block, numbers in full (`int`: Go prints a large
float as 1e+06).
Usage: {{ include "heimdall.platform.probeTimings" .Values.startupProbe }}
*/}}
{{- define "heimdall.platform.probeTimings" -}}
initialDelaySeconds: {{ .initialDelaySeconds | int }}
periodSeconds: {{ .periodSeconds | int }}
timeoutSeconds: {{ .timeoutSeconds | int }}
failureThreshold: {{ .failureThreshold | int }}
{{- end }}

{{/*
"true" on OpenShift: a cluster that serves security.openshift.io/v1 (its SCC API); "" elsewhere.
Usage: {{ include "heimdall.platform.openshift" . }}
*/}}
{{- define "heimdall.platform.openshift" -}}
  {{- if .Capabilities.APIVersions.Has "security.openshift.io/v1" }}true{{ end }}
{{- end }}

{{/*
"true" when security contexts leave user and group IDs to OpenShift's SCC:
global.compatibility.openshift.adaptSecurityContext "force", or "auto" on a
cluster that serves security.openshift.io/v1; "" otherwise.
Usage: {{ include "heimdall.platform.adaptSecurityContext" $ }}
*/}}
{{- define "heimdall.platform.adaptSecurityContext" -}}
  {{- $mode := dig "compatibility" "openshift" "adaptSecurityContext" "auto" (.Values.global | default dict) }}
  {{- if not (has $mode (list "auto" "force" "disabled")) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "global.compatibility.openshift.adaptSecurityContext is %q: use auto, force or disabled" $mode)) }}
  {{- end }}
  {{- if or (eq $mode "force") (and (eq $mode "auto") (include "heimdall.platform.openshift" .)) }}true{{ end }}
{{- end }}

{{/*
A pod or container security context as YAML, without runAsUser, runAsGroup and fsGroup on OpenShift; pass (dict "context" $sc "root" $).
Usage: {{ include "heimdall.platform.securityContext" (dict "context" .Values.podSecurityContext "root" $) }}
*/}}
{{- define "heimdall.platform.securityContext" -}}
  {{- $sc := .context }}
  {{- if include "heimdall.platform.adaptSecurityContext" .root }}
    {{- $sc = omit $sc "runAsUser" "runAsGroup" "fsGroup" }}
  {{- end }}
  {{- toYaml $sc }}
{{- end }}
