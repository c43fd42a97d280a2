{{/* The platform: OpenShift's security contexts, probe timings and the PodDisruptionBudget's arithmetic. */}}

{{/* The timing fields of a probe from its values block, numbers in full (`int`: Go prints a large
float as 1e+06). */}}
{{- define "heimdall.probeTimings" -}}
initialDelaySeconds: {{ .initialDelaySeconds | int }}
periodSeconds: {{ .periodSeconds | int }}
timeoutSeconds: {{ .timeoutSeconds | int }}
failureThreshold: {{ .failureThreshold | int }}
{{- end }}

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

{{/* Heimdall's replica count as the PodDisruptionBudget sees it: the HPA's minReplicas when autoscaling, else replicaCount. */}}
{{- define "heimdall.pdb.replicas" -}}
  {{- if .Values.autoscaling.enabled }}{{ .Values.autoscaling.minReplicas | int }}{{ else }}{{ .Values.replicaCount | int }}{{ end }}
{{- end }}

{{/* The PodDisruptionBudget's bound as written, for messages ("minAvailable 1"). */}}
{{- define "heimdall.pdb.bound" -}}
  {{- $p := .Values.podDisruptionBudget }}
  {{- if not (kindIs "invalid" $p.minAvailable) }}minAvailable {{ include "heimdall.platform.intOrPercent" $p.minAvailable }}{{ else }}maxUnavailable {{ include "heimdall.platform.intOrPercent" $p.maxUnavailable }}{{ end }}
{{- end }}

{{/* Voluntary disruptions the PodDisruptionBudget allows at heimdall.pdb.replicas; percentages round up, as Kubernetes' disruption controller does. */}}
{{- define "heimdall.pdb.allowedDisruptions" -}}
  {{- $p := .Values.podDisruptionBudget }}
  {{- $replicas := include "heimdall.pdb.replicas" . | int }}
  {{- $bound := ternary $p.maxUnavailable $p.minAvailable (kindIs "invalid" $p.minAvailable) }}
  {{- $scaled := 0 }}
  {{- if kindIs "string" $bound }}
    {{- $scaled = div (add (mul (trimSuffix "%" $bound | int) $replicas) 99) 100 }}
  {{- else }}
    {{- $scaled = $bound | int }}
  {{- end }}
  {{- if kindIs "invalid" $p.minAvailable }}{{ min $scaled $replicas }}{{ else }}{{ max 0 (sub $replicas $scaled) }}{{ end }}
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
*/}}
{{- define "heimdall.openshift.adaptSecurityContext" -}}
  {{- $mode := dig "compatibility" "openshift" "adaptSecurityContext" "auto" (.Values.global | default dict) }}
  {{- if not (has $mode (list "auto" "force" "disabled")) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "global.compatibility.openshift.adaptSecurityContext is %q: use auto, force or disabled" $mode)) }}
  {{- end }}
  {{- if or (eq $mode "force") (and (eq $mode "auto") (include "heimdall.platform.openshift" .)) }}true{{ end }}
{{- end }}

{{/*
The ports of Heimdall's DNS egress, as a JSON list: networkPolicy.dnsPorts, or
53, and 5353 too on OpenShift (a cluster that serves security.openshift.io/v1),
whose DNS pods listen on 5353 behind the dns-default Service's 53: a
NetworkPolicy sees the port of the pod, not the Service's.
Usage: {{ include "heimdall.platform.dnsPorts" . | fromJsonArray }}
*/}}
{{- define "heimdall.platform.dnsPorts" -}}
  {{- $ports := .Values.networkPolicy.dnsPorts | default list }}
  {{- if not $ports }}
    {{- $ports = list 53 }}
    {{- if include "heimdall.platform.openshift" . }}
      {{- $ports = append $ports 5353 }}
    {{- end }}
  {{- end }}
  {{- toJson $ports }}
{{- end }}

{{/* A pod or container security context as YAML, without runAsUser, runAsGroup and fsGroup on OpenShift; pass (dict "context" $sc "root" $). */}}
{{- define "heimdall.securityContext" -}}
  {{- $sc := .context }}
  {{- if include "heimdall.openshift.adaptSecurityContext" .root }}
    {{- $sc = omit $sc "runAsUser" "runAsGroup" "fsGroup" }}
  {{- end }}
  {{- toYaml $sc }}
{{- end }}
