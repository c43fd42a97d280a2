{{/* The platform: OpenShift's security contexts, probe timings and the PodDisruptionBudget's arithmetic. */}}

{{/* The timing fields of a probe from its values block. */}}
{{- define "heimdall.probeTimings" -}}
initialDelaySeconds: {{ .initialDelaySeconds }}
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
failureThreshold: {{ .failureThreshold }}
{{- end }}

{{/* Heimdall's replica count as the PodDisruptionBudget sees it: the HPA's minReplicas when autoscaling, else replicaCount. */}}
{{- define "heimdall.pdb.replicas" -}}
  {{- if .Values.autoscaling.enabled }}{{ .Values.autoscaling.minReplicas | int }}{{ else }}{{ .Values.replicaCount | int }}{{ end }}
{{- end }}

{{/* The PodDisruptionBudget's bound as written, for messages ("minAvailable 1"). */}}
{{- define "heimdall.pdb.bound" -}}
  {{- $p := .Values.podDisruptionBudget }}
  {{- if not (kindIs "invalid" $p.minAvailable) }}minAvailable {{ $p.minAvailable }}{{ else }}maxUnavailable {{ $p.maxUnavailable }}{{ end }}
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
"true" when security contexts leave user and group IDs to OpenShift's SCC:
global.compatibility.openshift.adaptSecurityContext "force", or "auto" on a
cluster that serves security.openshift.io/v1; "" otherwise.
*/}}
{{- define "heimdall.openshift.adaptSecurityContext" -}}
  {{- $mode := dig "compatibility" "openshift" "adaptSecurityContext" "auto" (.Values.global | default dict) }}
  {{- if not (has $mode (list "auto" "force" "disabled")) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "global.compatibility.openshift.adaptSecurityContext is %q: use auto, force or disabled" $mode)) }}
  {{- end }}
  {{- if or (eq $mode "force") (and (eq $mode "auto") (.Capabilities.APIVersions.Has "security.openshift.io/v1")) }}true{{ end }}
{{- end }}

{{/* A pod or container security context as YAML, without runAsUser, runAsGroup and fsGroup on OpenShift; pass (dict "context" $sc "root" $). */}}
{{- define "heimdall.securityContext" -}}
  {{- $sc := .context }}
  {{- if include "heimdall.openshift.adaptSecurityContext" .root }}
    {{- $sc = omit $sc "runAsUser" "runAsGroup" "fsGroup" }}
  {{- end }}
  {{- toYaml $sc }}
{{- end }}
