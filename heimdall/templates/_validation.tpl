{{/*
Validation: every value that renders but cannot work is refused with a
message naming the value and how to fix it. Each check records its problem
with heimdall.validation.record and carries on; heimdall.validation.run,
included first by every template, runs them all once per render and fails
once, so a user sees every problem in one `helm install`. The checks live
in the helper files of their topics.
*/}}

{{/*
The one validation entry point; include it first in every template. Runs
every check once per render (the result is kept on the root context), then
fails with the problem's own message when there is one, or with a numbered
list of them all when there are several. Renders nothing when all is well.
Helm reports the failure at this include in the first template it renders
(templates/tests/connection.yaml); the message says what to fix.
Usage: {{ include "heimdall.validation.run" . }}
*/}}
{{- define "heimdall.validation.run" -}}
  {{- if not (hasKey $ "heimdallProblems") }}
    {{- $_ := set $ "heimdallProblems" list }}
    {{- include "heimdall.validation.checks" . }}
    {{- $_ = set $ "heimdallValidated" true }}
    {{- $problems := get $ "heimdallProblems" }}
    {{- if eq (len $problems) 1 }}
      {{- fail (first $problems) }}
    {{- else if $problems }}
      {{- $lines := list }}
      {{- range $i, $problem := $problems }}
        {{- $lines = append $lines (printf "%d) %s" (add1 $i) $problem) }}
      {{- end }}
      {{- fail (printf "%d problems in the values; fix them all, then render again:\n%s" (len $problems) (join "\n" $lines)) }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
Records one problem; pass (dict "root" $ "message" "..."). While
heimdall.validation.run runs, the message joins its list (once, however often
the helper that found it runs). Anywhere else, it fails at once: a check that
heimdall.validation.checks does not reach still refuses the render, never
passes silently.
Usage: {{ include "heimdall.validation.record" (dict "root" $ "message" "autoscaling.minReplicas (5) is greater than autoscaling.maxReplicas (2)") }}
*/}}
{{- define "heimdall.validation.record" -}}
  {{- if or (not (hasKey .root "heimdallProblems")) (hasKey .root "heimdallValidated") }}
    {{- fail .message }}
  {{- end }}
  {{- if not (has .message .root.heimdallProblems) }}
    {{- $_ := set .root "heimdallProblems" (append .root.heimdallProblems .message) }}
  {{- end }}
{{- end }}

{{/*
Every check, in the order a reader meets the values: the secrets, the
settings (with their combinations and TLS files), extraEnv, labels,
exposure, images and platform, then the optional objects. Each helper that
computes something (the resolved secrets and settings, image references)
checks what it reads as it goes, so running it here checks it.
Usage: {{ include "heimdall.validation.checks" . }}
*/}}
{{- define "heimdall.validation.checks" -}}
  {{- $_ := include "heimdall.secrets.resolvedJson" . }}
  {{- $_ = include "heimdall.config.resolvedJson" . }}
  {{- $_ = include "heimdall.variables.validateExtraEnv" . }}
  {{- $_ = include "heimdall.metadata.validate" . }}
  {{- $_ = include "heimdall.exposure.validate" . }}
  {{- $_ = include "heimdall.httpRoute.validate" . }}
  {{- $_ = include "heimdall.images.heimdall" . }}
  {{- if or .Values.postgresql.enabled .Values.waitForDatabase.enabled }}
    {{- $_ = include "heimdall.images.postgresql" . }}
  {{- end }}
  {{- $_ = include "heimdall.database.validateClaimTemplate" . }}
  {{- $_ = include "heimdall.images.pullSecretNames" . }}
  {{- $_ = include "heimdall.platform.adaptSecurityContext" . }}
  {{- $_ = include "heimdall.availability.validateAutoscaling" . }}
  {{- $_ = include "heimdall.availability.validateDisruptionBudget" . }}
  {{- $_ = include "heimdall.availability.validateShutdown" . }}
  {{- $_ = include "heimdall.networkPolicy.validate" . }}
  {{- $_ = include "heimdall.caCertificates.validate" . }}
  {{- $_ = include "heimdall.extraObjects.validate" . }}
  {{- $_ = include "heimdall.validation.otherChartsNames" . }}
{{- end }}

{{/*
Records a problem for each value that is another chart's name for one of this
chart's (Bitnami's, which the schema lets through for this): a did-you-mean,
not a silent no-op or the schema's bare "additional property".
Usage: {{ include "heimdall.validation.otherChartsNames" . }}
*/}}
{{- define "heimdall.validation.otherChartsNames" -}}
  {{- $names := list (list .Values "extraDeploy" "extraObjects") (list .Values "containerSecurityContext" "securityContext") (list .Values.postgresql "postgresql.containerSecurityContext" "postgresql.securityContext") }}
  {{- range $names }}
    {{- $key := last (splitList "." (index . 1)) }}
    {{- if hasKey (index . 0) $key }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "%s is not a value of this chart (Bitnami's charts name it so): did you mean %s? Move its content there" (index . 1) (index . 2))) }}
    {{- end }}
  {{- end }}
{{- end }}
