{{/*
The ConfigMap's settings: resolved from the config file, heimdall.config and derived values, their checksum, and the checks of combinations that render but cannot work.
*/}}

{{/*
The resolved ConfigMap data as JSON: env/heimdallconfig.yaml, then
heimdall.config, then the derived database settings and EXTERNAL_URL. Records a
problem (heimdall.validation.record) for a secret-looking key, a misspelt app
variable, a database key set by hand, or a combination that cannot work.
Usage: {{ include "heimdall.config.resolvedJson" . }}
*/}}
{{- define "heimdall.config.resolvedJson" -}}
  {{- $file := "env/heimdallconfig.yaml" }}
  {{- $base := dict }}
  {{- $raw := .Files.Get $file }}
  {{- if $raw }}
    {{- $base = fromYaml $raw }}
    {{- if hasKey $base "Error" }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "%s is not a YAML map of variable names to values: %s" $file (get $base "Error"))) }}
      {{- $base = dict }}
    {{- end }}
  {{- end }}
  {{- $data := dict }}
  {{- $sources := list (list $file $base) (list "heimdall.config" (.Values.heimdall.config | default dict)) }}
  {{- range $pair := $sources }}
    {{- $where := index $pair 0 }}
    {{- range $key, $value := index $pair 1 }}
      {{- include "heimdall.variables.validateName" (dict "key" $key "where" $where "as" "setting" "root" $) }}
      {{- if not (or (kindIs "string" $value) (kindIs "bool" $value) (kindIs "float64" $value) (kindIs "int64" $value) (kindIs "int" $value)) }}
        {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "%s: %s must be a string (got %s); quote it" $where $key (kindOf $value))) }}
      {{- end }}
      {{- $_ := set $data $key (include "heimdall.platform.text" $value) }}
    {{- end }}
  {{- end }}
  {{- /* The app compares these with "true" exactly in places: True and TRUE become true (anything else is a problem below). */}}
  {{- range $name := get (include "heimdall.variables.classesJson" $ | fromJson) "_booleans" }}
    {{- $v := get $data $name }}
    {{- if and $v (has (lower $v) (list "true" "false")) }}{{ $_ := set $data $name (lower $v) }}{{ end }}
  {{- end }}
  {{- $_ := set $data "DATABASE_HOST" (include "heimdall.database.host" .) }}
  {{- $_ = set $data "DATABASE_PORT" (include "heimdall.database.port" .) }}
  {{- $_ = set $data "DATABASE_NAME" (include "heimdall.database.name" .) }}
  {{- $_ = set $data "DATABASE_USERNAME" (include "heimdall.database.username" .) }}
  {{- if .Values.postgresql.enabled }}
    {{- /* The embedded database is reached inside the cluster without TLS. */}}
    {{- $_ = set $data "DATABASE_SSL" "false" }}
  {{- else }}
    {{- $_ = set $data "DATABASE_SSL" (ternary "true" "false" .Values.externalDatabase.ssl) }}
    {{- $_ = set $data "DATABASE_SSL_INSECURE" (ternary "true" "false" .Values.externalDatabase.sslInsecure) }}
  {{- end }}
  {{- $secretData := (include "heimdall.secrets.resolvedJson" . | fromJson).data | default dict }}
  {{- /* Set by value: before the mounted files join (a CA given twice by files is tlsFilesJson's problem). */}}
  {{- $byValue := keys $data }}
  {{- range include "heimdall.tls.filesJson" . | fromJsonArray }}
    {{- if or (has .variable $byValue) (hasKey $secretData .variable) }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "%s is set both by value and by the mounted %s %s: give it once (the mounted file keeps the PEM out of the environment)" .variable .kind .name)) }}
    {{- end }}
    {{- $_ = set $data .variable .path }}
  {{- end }}
  {{- if not (hasKey $data "EXTERNAL_URL") }}
    {{- $url := include "heimdall.exposure.externalUrl" . }}
    {{- if $url }}{{ $_ = set $data "EXTERNAL_URL" $url }}{{ end }}
  {{- end }}
  {{- include "heimdall.config.validateCombinations" (dict "data" $data "root" $) }}
  {{- if and (eq (get $data "LDAP_SSL" | default "") "true") (not (get $data "LDAP_SSL_CA" | default "")) (not (include "heimdall.caCertificates.enabled" .)) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" "LDAP_SSL is \"true\" without LDAP_SSL_CA: Heimdall crashes at boot. Set LDAP_SSL_CA in the config, or add the CA under caCertificates") }}
  {{- end }}
  {{- toJson $data }}
{{- end }}

{{/*
sha256 of the resolved ConfigMap data.
Usage: {{ include "heimdall.config.checksum" . }}
*/}}
{{- define "heimdall.config.checksum" -}}
  {{- include "heimdall.config.resolvedJson" . | sha256sum }}
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
Usage: {{ include "heimdall.config.validateCombinations" (dict "data" $settings "root" $) }}
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
  {{- $providers := (include "heimdall.tables.json" $root | fromJson).oauthProviders }}
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
Usage: {{ include "heimdall.config.validateExternalUrl" (dict "url" "https://heimdall.example.com" "providers" (list "GitHub") "root" $) }}
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
Usage: {{ include "heimdall.config.validateJwtExpireTime" (dict "value" "25m" "root" $) }}
*/}}
{{- define "heimdall.config.validateJwtExpireTime" -}}
  {{- $value := .value }}
  {{- if $value }}
    {{- $pattern := "^([0-9]*\\.?[0-9]+) *([a-zA-Z]*)$" }}
    {{- $units := (include "heimdall.tables.json" .root | fromJson).jwtDurationUnits }}
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
