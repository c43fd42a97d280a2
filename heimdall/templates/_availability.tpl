{{/*
Availability: the PodDisruptionBudget's arithmetic, and the checks that the
HPA, the budget, rolling updates and the preStop sleep leave Heimdall
available and able to stop.
*/}}

{{/*
Heimdall's replica count as the PodDisruptionBudget sees it: the HPA's minReplicas when autoscaling, else replicaCount.
Usage: {{ include "heimdall.availability.replicas" . }}
*/}}
{{- define "heimdall.availability.replicas" -}}
  {{- if .Values.autoscaling.enabled }}{{ .Values.autoscaling.minReplicas | int }}{{ else }}{{ .Values.replicaCount | int }}{{ end }}
{{- end }}

{{/*
The PodDisruptionBudget's bound as written, for messages ("minAvailable 1").
Usage: {{ include "heimdall.availability.disruptionBound" . }}
*/}}
{{- define "heimdall.availability.disruptionBound" -}}
  {{- $p := .Values.podDisruptionBudget }}
  {{- if not (kindIs "invalid" $p.minAvailable) }}minAvailable {{ include "heimdall.platform.intOrPercent" $p.minAvailable }}{{ else }}maxUnavailable {{ include "heimdall.platform.intOrPercent" $p.maxUnavailable }}{{ end }}
{{- end }}

{{/*
Voluntary disruptions the PodDisruptionBudget allows at heimdall.availability.replicas; percentages round up, as Kubernetes' disruption controller does.
Usage: {{ include "heimdall.availability.allowedDisruptions" . }}
*/}}
{{- define "heimdall.availability.allowedDisruptions" -}}
  {{- $p := .Values.podDisruptionBudget }}
  {{- $replicas := include "heimdall.availability.replicas" . | int }}
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
Records a problem when autoscaling is on with no metric to scale on, or with minReplicas above maxReplicas.
Usage: {{ include "heimdall.availability.validateAutoscaling" . }}
*/}}
{{- define "heimdall.availability.validateAutoscaling" -}}
  {{- $a := .Values.autoscaling }}
  {{- if $a.enabled }}
    {{- if and (kindIs "invalid" $a.targetCPUUtilizationPercentage) (kindIs "invalid" $a.targetMemoryUtilizationPercentage) }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" "autoscaling.enabled is true but both targetCPUUtilizationPercentage and targetMemoryUtilizationPercentage are null: set at least one") }}
    {{- end }}
    {{- if gt (int $a.minReplicas) (int $a.maxReplicas) }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "autoscaling.minReplicas (%d) is greater than autoscaling.maxReplicas (%d)" (int $a.minReplicas) (int $a.maxReplicas))) }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
Records a problem when the PodDisruptionBudget is on without exactly one
bound, or allows no voluntary disruption at Heimdall's replica count (node
drains and cluster upgrades would hang on it).
Usage: {{ include "heimdall.availability.validateDisruptionBudget" . }}
*/}}
{{- define "heimdall.availability.validateDisruptionBudget" -}}
  {{- $p := .Values.podDisruptionBudget }}
  {{- if $p.enabled }}
    {{- if eq (kindIs "invalid" $p.minAvailable) (kindIs "invalid" $p.maxUnavailable) }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" "podDisruptionBudget.minAvailable and podDisruptionBudget.maxUnavailable are both set: set exactly one (the other to null)") }}
    {{- else if lt (include "heimdall.availability.allowedDisruptions" . | int) 1 }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "podDisruptionBudget.%s allows no voluntary disruption at %s Heimdall replica(s): node drains and cluster upgrades would hang on it. Use maxUnavailable: 1 (and minAvailable: null), or run more replicas" (include "heimdall.availability.disruptionBound" .) (include "heimdall.availability.replicas" .))) }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
Records a problem when a rolling update could replace no pod (maxSurge and
maxUnavailable both 0, which the API server refuses), or when the preStop
sleep does not end within the grace period (SIGTERM would never come first).
Usage: {{ include "heimdall.availability.validateShutdown" . }}
*/}}
{{- define "heimdall.availability.validateShutdown" -}}
  {{- $r := .Values.updateStrategy.rollingUpdate }}
  {{- if and (eq .Values.updateStrategy.type "RollingUpdate") $r }}
    {{- $surge := include "heimdall.platform.text" $r.maxSurge }}
    {{- $unavailable := include "heimdall.platform.text" $r.maxUnavailable }}
    {{- if and (eq ($surge | trimSuffix "%" | int) 0) (eq ($unavailable | trimSuffix "%" | int) 0) }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "updateStrategy.rollingUpdate: maxSurge (%s) and maxUnavailable (%s) are both 0, so no pod could ever be replaced: set maxSurge to 1 (the chart's default)" $surge $unavailable)) }}
    {{- end }}
  {{- end }}
  {{- if and .Values.lifecycle (gt (int .Values.preStopSleepSeconds) 0) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "lifecycle is set and preStopSleepSeconds is %d: lifecycle replaces the chart's preStop sleep, so the sleep would silently go; set preStopSleepSeconds to 0 (and give lifecycle a preStop, e.g. {sleep: {seconds: %d}}, to keep one)" (int .Values.preStopSleepSeconds) (int .Values.preStopSleepSeconds))) }}
  {{- end }}
  {{- $grace := 30 }}
  {{- if not (kindIs "invalid" .Values.terminationGracePeriodSeconds) }}{{ $grace = int .Values.terminationGracePeriodSeconds }}{{ end }}
  {{- if and (gt (int .Values.preStopSleepSeconds) 0) (ge (int .Values.preStopSleepSeconds) $grace) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "preStopSleepSeconds (%d) is not below the grace period (terminationGracePeriodSeconds: %d), so Heimdall would be killed before it ever got SIGTERM: lower preStopSleepSeconds or raise terminationGracePeriodSeconds" (int .Values.preStopSleepSeconds) $grace)) }}
  {{- end }}
{{- end }}
