{{/* Combinations of values that render but cannot work, refused with a message naming the values. */}}

{{/* Fails when more than one of ingress, httpRoute and route is enabled: Heimdall has one EXTERNAL_URL. */}}
{{- define "heimdall.exposure.validate" -}}
  {{- $on := list }}
  {{- range $name := list "ingress" "httpRoute" "route" }}
    {{- if (get $.Values $name).enabled }}{{ $on = append $on (printf "%s.enabled" $name) }}{{ end }}
  {{- end }}
  {{- if eq (len $on) 2 }}
    {{- fail (printf "%s and %s are both true: expose Heimdall through one of ingress, httpRoute and route" (index $on 0) (index $on 1)) }}
  {{- else if gt (len $on) 2 }}
    {{- fail "ingress.enabled, httpRoute.enabled and route.enabled are all true: expose Heimdall through one of them" }}
  {{- end }}
{{- end }}

{{/*
Fails on settings that render but cannot work, naming the values and never
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
      {{- fail (printf "%s is %q: Heimdall compares it with \"true\" / \"false\"; give one of those" $name $v) }}
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
        {{- fail (printf "%s login: %s is set but %s is in no secrets source; add it to heimdall.secrets, a secrets file or your existingSecret" $provider (index $pair 0) (index $pair 1)) }}
      {{- else if and $hasSecret (not $id) }}
        {{- fail (printf "%s login: %s is supplied but %s is not set, so the provider stays off; set %s in heimdall.config or remove the secret" $provider (index $pair 1) (index $pair 0) (index $pair 0)) }}
      {{- end }}
    {{- end }}
  {{- end }}
  {{- if and (has "Okta" $on) (not (get $d "OKTA_DOMAIN")) }}
    {{- fail "Okta login: OKTA_CLIENTID is set but OKTA_DOMAIN is not; set it in heimdall.config (e.g. example.okta.com)" }}
  {{- end }}
  {{- if has "OIDC" $on }}
    {{- $missing := list }}
    {{- range $k := list "OIDC_ISSUER" "OIDC_AUTHORIZATION_URL" "OIDC_TOKEN_URL" "OIDC_USER_INFO_URL" }}{{ if not (get $d $k) }}{{ $missing = append $missing $k }}{{ end }}{{ end }}
    {{- if $missing }}
      {{- fail (printf "OIDC login: OIDC_CLIENTID is set but %s %s not; set them in heimdall.config from your provider's discovery document" (join ", " $missing) (ternary "is" "are" (eq (len $missing) 1))) }}
    {{- end }}
  {{- end }}
  {{- $ldap := eq (lower (get $d "LDAP_ENABLED" | default "")) "true" }}
  {{- if $ldap }}
    {{- range $k := list "LDAP_HOST" "LDAP_SEARCHBASE" }}
      {{- if not (get $d $k) }}
        {{- fail (printf "LDAP login: LDAP_ENABLED is true but %s is not set; set it in heimdall.config" $k) }}
      {{- end }}
    {{- end }}
  {{- end }}
  {{- if and (eq (lower (get $d "LOCAL_LOGIN_DISABLED" | default "")) "true") (not $on) (not $ldap) }}
    {{- if eq $s.mode "chart" }}
      {{- fail "LOCAL_LOGIN_DISABLED is true but no OAuth provider (a *_CLIENTID) and no LDAP is on: nobody could log in. Configure a provider or LDAP, or allow local login" }}
    {{- end }}
  {{- end }}
  {{- include "heimdall.config.validateExternalUrl" (dict "url" (get $d "EXTERNAL_URL" | default "") "providers" $on "root" $root) }}
  {{- include "heimdall.config.validateJwtExpireTime" (get $d "JWT_EXPIRE_TIME" | default "") }}
{{- end }}

{{/*
Fails unless .url (EXTERNAL_URL, set or derived; "" when neither) can carry
the OAuth callbacks of .providers (the names of the providers that are on):
present when one is on, an absolute http(s) URL without a trailing slash,
and https while one is on unless heimdall.allowInsecureExternalUrl. Pass
(dict "url" $url "providers" $on "root" $).
*/}}
{{- define "heimdall.config.validateExternalUrl" -}}
  {{- $url := .url }}
  {{- $on := .providers }}
  {{- if and $on (not $url) }}
    {{- fail (printf "%s login is on but EXTERNAL_URL is not set, so Heimdall cannot build its callback URLs: set heimdall.config.EXTERNAL_URL, or enable an ingress, httpRoute or route with a host" (join ", " $on)) }}
  {{- end }}
  {{- if $url }}
    {{- if not (regexMatch "^https?://[^/?#\\s]+(/[^?#\\s]*)?$" $url) }}
      {{- fail (printf "EXTERNAL_URL %q is not an absolute http or https URL: OAuth callbacks are built from it, and without a scheme they break (heimdall2 issue 7542): e.g. https://heimdall.example.com" $url) }}
    {{- end }}
    {{- if hasSuffix "/" $url }}
      {{- fail (printf "EXTERNAL_URL %q ends with a slash: the OAuth callback paths would start with //; drop the trailing slash" $url) }}
    {{- end }}
    {{- if and (hasPrefix "http://" $url) $on (not .root.Values.heimdall.allowInsecureExternalUrl) }}
      {{- fail (printf "EXTERNAL_URL %q is plain http while %s login is on: tokens and sessions would cross the network in clear. Use https, or set heimdall.allowInsecureExternalUrl=true" $url (join ", " $on)) }}
    {{- end }}
  {{- end }}
{{- end }}

{{/* Fails unless the text is a duration the app's `ms` parser reads (25m, 1d, 3600s, 1.5h; a bare number is milliseconds), above zero and at most 2 days. */}}
{{- define "heimdall.config.validateJwtExpireTime" -}}
  {{- if . }}
    {{- $pattern := "^([0-9]*\\.?[0-9]+) *([a-zA-Z]*)$" }}
    {{- $units := dict "" 1 "ms" 1 "msec" 1 "msecs" 1 "millisecond" 1 "milliseconds" 1 "s" 1000 "sec" 1000 "secs" 1000 "second" 1000 "seconds" 1000 "m" 60000 "min" 60000 "mins" 60000 "minute" 60000 "minutes" 60000 "h" 3600000 "hr" 3600000 "hrs" 3600000 "hour" 3600000 "hours" 3600000 "d" 86400000 "day" 86400000 "days" 86400000 "w" 604800000 "week" 604800000 "weeks" 604800000 }}
    {{- $unit := lower (regexReplaceAll $pattern . "${2}") }}
    {{- if or (not (regexMatch $pattern .)) (not (hasKey $units $unit)) }}
      {{- fail (printf "JWT_EXPIRE_TIME %q is not a duration Heimdall reads: use a number and a unit, e.g. 25m, 12h or 1d" .) }}
    {{- end }}
    {{- $millis := mulf (float64 (regexReplaceAll $pattern . "${1}")) (get $units $unit) }}
    {{- if or (le $millis 0.0) (gt $millis 172800000.0) }}
      {{- fail (printf "JWT_EXPIRE_TIME %q is outside what Heimdall allows: above zero and at most 2 days (2d); the app would cut a longer one to 2 days without saying so" .) }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
Fails when commonLabels or a podLabels sets a label the chart sets itself
(selectors, `helm list` filters and dashboards depend on them), or
commonAnnotations sets a hook annotation, which would make every object a
hook that Helm deletes after install.
*/}}
{{- define "heimdall.metadata.validate" -}}
  {{- $owned := list "helm.sh/chart" "app.kubernetes.io/name" "app.kubernetes.io/instance" "app.kubernetes.io/version" "app.kubernetes.io/managed-by" "app.kubernetes.io/part-of" "app.kubernetes.io/component" }}
  {{- range $value, $labels := dict "commonLabels" .Values.commonLabels "podLabels" .Values.podLabels "postgresql.podLabels" .Values.postgresql.podLabels }}
    {{- range $key, $_ := $labels }}
      {{- if has $key $owned }}
        {{- fail (printf "%s.%s: the chart sets this label itself and its selectors depend on it; remove it from %s, or use a key of your own (e.g. example.com/team)" $value $key $value) }}
      {{- end }}
    {{- end }}
  {{- end }}
  {{- range $key, $_ := .Values.commonAnnotations }}
    {{- if or (hasPrefix "helm.sh/hook" $key) (hasPrefix "argocd.argoproj.io/hook" $key) }}
      {{- fail (printf "commonAnnotations.%s: a hook annotation on every object would make each one a hook; set it only on the objects that need it (e.g. in extraObjects)" $key) }}
    {{- end }}
  {{- end }}
{{- end }}
