{{/*
Validation: every value that renders but cannot work is refused with a
message naming the value and how to fix it. Each check records its problem
with heimdall.validation.record and carries on; heimdall.validate, included
first by every template, runs them all once per render and fails once, so a
user sees every problem in one `helm install`.
*/}}

{{/*
The one validation entry point; include it first in every template. Runs
every check once per render (the result is kept on the root context), then
fails with the problem's own message when there is one, or with a numbered
list of them all when there are several. Renders nothing when all is well.
Helm reports the failure at this include in the first template it renders
(templates/tests/connection.yaml); the message says what to fix.
*/}}
{{- define "heimdall.validate" -}}
  {{- if not (hasKey $ "heimdallProblems") }}
    {{- $_ := set $ "heimdallProblems" list }}
    {{- include "heimdall.validation.runChecks" . }}
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
heimdall.validate runs, the message joins its list (once, however often the
helper that found it runs). Anywhere else, it fails at once: a check that
heimdall.validate.runChecks does not reach still refuses the render, never
passes silently.
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
*/}}
{{- define "heimdall.validation.runChecks" -}}
  {{- $_ := include "heimdall.secrets.resolvedJson" . }}
  {{- $_ = include "heimdall.config.resolvedJson" . }}
  {{- $_ = include "heimdall.validateExtraEnv" . }}
  {{- $_ = include "heimdall.metadata.validate" . }}
  {{- $_ = include "heimdall.exposure.validate" . }}
  {{- $_ = include "heimdall.httpRoute.validate" . }}
  {{- $_ = include "heimdall.image" . }}
  {{- if or .Values.postgresql.enabled .Values.waitForDatabase.enabled }}
    {{- $_ = include "heimdall.postgresql.image" . }}
  {{- end }}
  {{- $_ = include "heimdall.postgresql.validateClaimTemplate" . }}
  {{- $_ = include "heimdall.imagePullSecretNames" . }}
  {{- $_ = include "heimdall.openshift.adaptSecurityContext" . }}
  {{- $_ = include "heimdall.autoscaling.validate" . }}
  {{- $_ = include "heimdall.podDisruptionBudget.validate" . }}
  {{- $_ = include "heimdall.shutdown.validate" . }}
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

{{/* Combinations of values that render but cannot work. */}}

{{/* Records a problem when more than one of ingress, httpRoute and route is enabled (Heimdall has one EXTERNAL_URL), when the one enabled lacks what it attaches to, when the Service has affinity settings Kubernetes would discard, source ranges that only a LoadBalancer Service applies, or extra ports that repeat a name or a port. */}}
{{- define "heimdall.exposure.validate" -}}
  {{- $on := list }}
  {{- range $name := list "ingress" "httpRoute" "route" }}
    {{- if (get $.Values $name).enabled }}{{ $on = append $on (printf "%s.enabled" $name) }}{{ end }}
  {{- end }}
  {{- if eq (len $on) 2 }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "%s and %s are both true: expose Heimdall through one of ingress, httpRoute and route" (index $on 0) (index $on 1))) }}
  {{- else if gt (len $on) 2 }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" "ingress.enabled, httpRoute.enabled and route.enabled are all true: expose Heimdall through one of them") }}
  {{- end }}
  {{- $names := list "http" }}
  {{- $ports := list (printf "%d/TCP" (.Values.service.port | int)) }}
  {{- range $i, $p := .Values.service.extraPorts }}
    {{- $port := printf "%d/%s" ($p.port | int) ($p.protocol | default "TCP") }}
    {{- if or (has $p.name $names) (has $port $ports) }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "service.extraPorts[%d] (name %s, port %s) repeats the name or the port of another of the Service's ports (the chart's own: http, %d/TCP): the API server refuses a duplicate; give it a name and a port of its own" $i $p.name $port ($.Values.service.port | int))) }}
    {{- end }}
    {{- $names = append $names $p.name }}
    {{- $ports = append $ports $port }}
  {{- end }}
  {{- if and .Values.httpRoute.enabled (not .Values.httpRoute.parentRefs) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" "httpRoute.parentRefs is empty: name the Gateway to attach to, e.g. --set httpRoute.parentRefs[0].name=my-gateway") }}
  {{- end }}
  {{- if and .Values.ingress.enabled (not .Values.ingress.hosts) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" "ingress.hosts is empty: an Ingress needs a rule (the API server refuses one with neither rules nor a default backend); list a host, e.g. --set ingress.hosts[0].host=heimdall.example.com --set ingress.hosts[0].paths[0].path=/ --set ingress.hosts[0].paths[0].pathType=Prefix") }}
  {{- end }}
  {{- if and .Values.route.enabled (not .Values.route.host) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" "route.host is empty: set the host name the Route serves, e.g. --set route.host=heimdall.apps.example.com") }}
  {{- end }}
  {{- if and .Values.service.sessionAffinityConfig (ne .Values.service.sessionAffinity "ClientIP") }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "service.sessionAffinityConfig is set but service.sessionAffinity is %q, not ClientIP: Kubernetes discards the config without a word. Set service.sessionAffinity=ClientIP, or drop sessionAffinityConfig" .Values.service.sessionAffinity)) }}
  {{- end }}
  {{- if and .Values.service.loadBalancerSourceRanges (ne .Values.service.type "LoadBalancer") }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "service.loadBalancerSourceRanges is set but service.type is %q, not LoadBalancer: only a load balancer applies source ranges, so they would restrict nothing. Set service.type=LoadBalancer, or restrict who reaches Heimdall with networkPolicy.enabled and networkPolicy.ingressFrom, and drop loadBalancerSourceRanges" .Values.service.type)) }}
  {{- end }}
{{- end }}

{{/*
Records a problem for settings that render but cannot work, naming the values and never
printing a secret: EXTERNAL_URL (set or derived) not an absolute http(s)
URL or with a trailing slash (OAuth callbacks break), or http with an
OAuth provider on (unless heimdall.allowInsecureExternalUrl), or unset with a
provider on (no callback URL can be built: heimdall.config.validateExternalUrl); a provider's
client ID without its secret or the reverse (chart-supplied secrets only:
an existingSecret's keys are not visible); Okta without OKTA_DOMAIN; OIDC
without its issuer and endpoints; LDAP on without host and search base;
local login off with no other way in; JWT_EXPIRE_TIME not a duration the
app reads or over its 2-day cap; a boolean the app compares with
"true"/"false" given as anything else. Pass (dict "data" $config "root" $).
*/}}
{{- define "heimdall.config.validateCombinations" -}}
  {{- $d := .data }}
  {{- $root := .root }}
  {{- $s := include "heimdall.secrets.resolvedJson" $root | fromJson }}
  {{- $secrets := ternary $s.data dict (eq $s.mode "chart") }}
  {{- $known := include "heimdall.variables.classesJson" $root | fromJson }}
  {{- range $name := get $known "_booleans" }}
    {{- $v := get $d $name }}
    {{- if and $v (not (has (lower $v) (list "true" "false"))) }}
      {{- include "heimdall.validation.record" (dict "root" $root "message" (printf "%s is %q: Heimdall compares it with \"true\" / \"false\"; give one of those" $name $v)) }}
    {{- end }}
  {{- end }}
  {{- $providers := dict "GitHub" (list "GITHUB_CLIENTID" "GITHUB_CLIENTSECRET") "GitLab" (list "GITLAB_CLIENTID" "GITLAB_SECRET") "Google" (list "GOOGLE_CLIENTID" "GOOGLE_CLIENTSECRET") "Okta" (list "OKTA_CLIENTID" "OKTA_CLIENTSECRET") "OIDC" (list "OIDC_CLIENTID" "OIDC_CLIENT_SECRET") }}
  {{- $on := list }}
  {{- range $provider, $pair := $providers }}
    {{- $id := or (get $d (index $pair 0)) (get $secrets (index $pair 0)) }}
    {{- $hasSecret := or (get $secrets (index $pair 1)) (get $d (index $pair 1)) }}
    {{- if $id }}{{ $on = append $on $provider }}{{ end }}
    {{- if eq $s.mode "chart" }}
      {{- if and $id (not $hasSecret) }}
        {{- include "heimdall.validation.record" (dict "root" $root "message" (printf "%s login: %s is set but %s is in no secrets source; add it to heimdall.secrets, a secrets file or your existingSecret" $provider (index $pair 0) (index $pair 1))) }}
      {{- else if and $hasSecret (not $id) }}
        {{- include "heimdall.validation.record" (dict "root" $root "message" (printf "%s login: %s is supplied but %s is not set, so the provider stays off; set %s in heimdall.config or remove the secret" $provider (index $pair 1) (index $pair 0) (index $pair 0))) }}
      {{- end }}
    {{- end }}
  {{- end }}
  {{- if and (has "Okta" $on) (not (get $d "OKTA_DOMAIN")) }}
    {{- include "heimdall.validation.record" (dict "root" $root "message" "Okta login: OKTA_CLIENTID is set but OKTA_DOMAIN is not; set it in heimdall.config (e.g. example.okta.com)") }}
  {{- end }}
  {{- if has "OIDC" $on }}
    {{- $missing := list }}
    {{- range $k := list "OIDC_ISSUER" "OIDC_AUTHORIZATION_URL" "OIDC_TOKEN_URL" "OIDC_USER_INFO_URL" }}{{ if not (get $d $k) }}{{ $missing = append $missing $k }}{{ end }}{{ end }}
    {{- if $missing }}
      {{- include "heimdall.validation.record" (dict "root" $root "message" (printf "OIDC login: OIDC_CLIENTID is set but %s %s not; set them in heimdall.config from your provider's discovery document" (join ", " $missing) (ternary "is" "are" (eq (len $missing) 1)))) }}
    {{- end }}
  {{- end }}
  {{- $ldap := eq (lower (get $d "LDAP_ENABLED" | default "")) "true" }}
  {{- if $ldap }}
    {{- range $k := list "LDAP_HOST" "LDAP_SEARCHBASE" }}
      {{- if not (get $d $k) }}
        {{- include "heimdall.validation.record" (dict "root" $root "message" (printf "LDAP login: LDAP_ENABLED is true but %s is not set; set it in heimdall.config" $k)) }}
      {{- end }}
    {{- end }}
  {{- end }}
  {{- if and (eq (lower (get $d "LOCAL_LOGIN_DISABLED" | default "")) "true") (not $on) (not $ldap) }}
    {{- if eq $s.mode "chart" }}
      {{- include "heimdall.validation.record" (dict "root" $root "message" "LOCAL_LOGIN_DISABLED is true but no OAuth provider (a *_CLIENTID) and no LDAP is on: nobody could log in. Configure a provider or LDAP, or allow local login") }}
    {{- end }}
  {{- end }}
  {{- include "heimdall.config.validateExternalUrl" (dict "url" (get $d "EXTERNAL_URL" | default "") "providers" $on "root" $root) }}
  {{- include "heimdall.config.validateJwtExpireTime" (dict "value" (get $d "JWT_EXPIRE_TIME" | default "") "root" $root) }}
{{- end }}

{{/*
Records a problem unless .url (EXTERNAL_URL, set or derived; "" when neither) can carry
the OAuth callbacks of .providers (the names of the providers that are on):
present when one is on, an absolute http(s) URL without a trailing slash,
and https while one is on unless heimdall.allowInsecureExternalUrl. Pass
(dict "url" $url "providers" $on "root" $).
*/}}
{{- define "heimdall.config.validateExternalUrl" -}}
  {{- $url := .url }}
  {{- $on := .providers }}
  {{- if and $on (not $url) }}
    {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s login is on but EXTERNAL_URL is not set, so Heimdall cannot build its callback URLs: set heimdall.config.EXTERNAL_URL, or enable an ingress, httpRoute or route with a host" (join ", " $on))) }}
  {{- end }}
  {{- if $url }}
    {{- if not (regexMatch "^https?://[^/?#\\s]+(/[^?#\\s]*)?$" $url) }}
      {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "EXTERNAL_URL %q is not an absolute http or https URL: OAuth callbacks are built from it, and without a scheme they break (heimdall2 issue 7542): e.g. https://heimdall.example.com" $url)) }}
    {{- else if hasSuffix "/" $url }}
      {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "EXTERNAL_URL %q ends with a slash: the OAuth callback paths would start with //; drop the trailing slash" $url)) }}
    {{- else if and (hasPrefix "http://" $url) $on (not .root.Values.heimdall.allowInsecureExternalUrl) }}
      {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "EXTERNAL_URL %q is plain http while %s login is on: tokens and sessions would cross the network in clear. Use https, or set heimdall.allowInsecureExternalUrl=true" $url (join ", " $on))) }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
Records a problem unless .value (JWT_EXPIRE_TIME, "" when unset) is a
duration the app's `ms` parser reads (25m, 1d, 3600s, 1.5h; a bare number
is milliseconds), above zero and at most 2 days. Pass (dict "value" ... "root" $).
*/}}
{{- define "heimdall.config.validateJwtExpireTime" -}}
  {{- $value := .value }}
  {{- if $value }}
    {{- $pattern := "^([0-9]*\\.?[0-9]+) *([a-zA-Z]*)$" }}
    {{- $units := dict "" 1 "ms" 1 "msec" 1 "msecs" 1 "millisecond" 1 "milliseconds" 1 "s" 1000 "sec" 1000 "secs" 1000 "second" 1000 "seconds" 1000 "m" 60000 "min" 60000 "mins" 60000 "minute" 60000 "minutes" 60000 "h" 3600000 "hr" 3600000 "hrs" 3600000 "hour" 3600000 "hours" 3600000 "d" 86400000 "day" 86400000 "days" 86400000 "w" 604800000 "week" 604800000 "weeks" 604800000 }}
    {{- $unit := lower (regexReplaceAll $pattern $value "${2}") }}
    {{- if or (not (regexMatch $pattern $value)) (not (hasKey $units $unit)) }}
      {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "JWT_EXPIRE_TIME %q is not a duration Heimdall reads: use a number and a unit, e.g. 25m, 12h or 1d" $value)) }}
    {{- else }}
      {{- $millis := mulf (float64 (regexReplaceAll $pattern $value "${1}")) (get $units $unit) }}
      {{- if or (le $millis 0.0) (gt $millis 172800000.0) }}
        {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "JWT_EXPIRE_TIME %q is outside what Heimdall allows: above zero and at most 2 days (2d); the app would cut a longer one to 2 days without saying so" $value)) }}
      {{- end }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
Records a problem when commonLabels or a podLabels sets a label the chart sets itself
(selectors, `helm list` filters and dashboards depend on them), or
commonAnnotations sets a hook annotation, which would make every object a
hook that Helm deletes after install.
*/}}
{{- define "heimdall.metadata.validate" -}}
  {{- $owned := list "helm.sh/chart" "app.kubernetes.io/name" "app.kubernetes.io/instance" "app.kubernetes.io/version" "app.kubernetes.io/managed-by" "app.kubernetes.io/part-of" "app.kubernetes.io/component" }}
  {{- range $value, $labels := dict "commonLabels" .Values.commonLabels "podLabels" .Values.podLabels "postgresql.podLabels" .Values.postgresql.podLabels }}
    {{- range $key, $_ := $labels }}
      {{- if has $key $owned }}
        {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "%s.%s: the chart sets this label itself and its selectors depend on it; remove it from %s, or use a key of your own (e.g. example.com/team)" $value $key $value)) }}
      {{- end }}
    {{- end }}
  {{- end }}
  {{- range $key, $_ := .Values.commonAnnotations }}
    {{- if or (hasPrefix "helm.sh/hook" $key) (hasPrefix "argocd.argoproj.io/hook" $key) }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "commonAnnotations.%s: a hook annotation on every object would make each one a hook; set it only on the objects that need it (e.g. in extraObjects)" $key)) }}
    {{- end }}
  {{- end }}
{{- end }}

{{/* Records a problem when autoscaling is on with no metric to scale on, or with minReplicas above maxReplicas. */}}
{{- define "heimdall.autoscaling.validate" -}}
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
*/}}
{{- define "heimdall.podDisruptionBudget.validate" -}}
  {{- $p := .Values.podDisruptionBudget }}
  {{- if $p.enabled }}
    {{- if eq (kindIs "invalid" $p.minAvailable) (kindIs "invalid" $p.maxUnavailable) }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" "podDisruptionBudget.minAvailable and podDisruptionBudget.maxUnavailable are both set: set exactly one (the other to null)") }}
    {{- else if lt (include "heimdall.pdb.allowedDisruptions" . | int) 1 }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "podDisruptionBudget.%s allows no voluntary disruption at %s Heimdall replica(s): node drains and cluster upgrades would hang on it. Use maxUnavailable: 1 (and minAvailable: null), or run more replicas" (include "heimdall.pdb.bound" .) (include "heimdall.pdb.replicas" .))) }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
Records a problem when a rolling update could replace no pod (maxSurge and
maxUnavailable both 0, which the API server refuses), or when the preStop
sleep does not end within the grace period (SIGTERM would never come first).
*/}}
{{- define "heimdall.shutdown.validate" -}}
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

{{/* Records a problem when the NetworkPolicy is on with an external database but no CIDR lets Heimdall reach it. */}}
{{- define "heimdall.networkPolicy.validate" -}}
  {{- if and .Values.networkPolicy.enabled (not .Values.postgresql.enabled) (not .Values.networkPolicy.externalDatabaseCidrs) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" "networkPolicy.enabled with an external database needs networkPolicy.externalDatabaseCidrs (e.g. [\"10.0.5.0/24\"]): without it Heimdall could not reach its database") }}
  {{- end }}
{{- end }}

{{/* Records a problem for each entry of caCertificates.certificates that is not a PEM certificate (the chart renders them only without existingConfigMap). */}}
{{- define "heimdall.caCertificates.validate" -}}
  {{- if not .Values.caCertificates.existingConfigMap }}
    {{- range $name, $pem := .Values.caCertificates.certificates }}
      {{- if not (contains "-----BEGIN CERTIFICATE-----" $pem) }}
        {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "caCertificates.certificates.%s is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)" $name)) }}
      {{- end }}
    {{- end }}
  {{- end }}
{{- end }}

{{/* Records a problem for each extraObjects entry that is not, after tpl, one object with apiVersion, kind and metadata.name. */}}
{{- define "heimdall.extraObjects.validate" -}}
  {{- range $i, $entry := .Values.extraObjects }}
    {{- $object := include "heimdall.extraObjects.text" (dict "entry" $entry "root" $) | fromYaml }}
    {{- $metadata := $object.metadata | default dict }}
    {{- if hasKey $object "Error" }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "extraObjects[%d] is not one YAML object after tpl: %s" $i $object.Error)) }}
    {{- else if not $object.apiVersion }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "extraObjects[%d] has no apiVersion: each entry is one Kubernetes object with apiVersion, kind and metadata.name" $i)) }}
    {{- else if not $object.kind }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "extraObjects[%d] has no kind: each entry is one Kubernetes object with apiVersion, kind and metadata.name" $i)) }}
    {{- else if not (and (kindIs "map" $metadata) $metadata.name) }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "extraObjects[%d] (%s) has no metadata.name: name the object" $i $object.kind)) }}
    {{- end }}
  {{- end }}
{{- end }}
