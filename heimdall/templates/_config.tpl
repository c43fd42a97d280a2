{{/* The ConfigMap's settings: resolved from the config file, heimdall.config and derived values, and their checksum. */}}

{{/* The public URL of Heimdall derived from the Ingress or HTTPRoute host ("" when neither is on). */}}
{{- define "heimdall.externalUrl" -}}
  {{- if and .Values.ingress.enabled .Values.ingress.hosts }}
    {{- $host := (first .Values.ingress.hosts).host }}
    {{- $tls := false }}
    {{- range .Values.ingress.tls }}{{ if has $host (.hosts | default list) }}{{ $tls = true }}{{ end }}{{ end }}
    {{- printf "%s://%s" (ternary "https" "http" $tls) $host }}
  {{- else if and .Values.httpRoute.enabled .Values.httpRoute.hostnames }}
    {{- printf "%s://%s" (ternary "https" "http" .Values.httpRoute.tls) (first .Values.httpRoute.hostnames) }}
  {{- else if and .Values.route.enabled .Values.route.host }}
    {{- printf "%s://%s" (ternary "https" "http" .Values.route.tls.enabled) .Values.route.host }}
  {{- end }}
{{- end }}

{{/*
The resolved ConfigMap data as JSON: env/heimdallconfig.yaml, then
heimdall.config, then the derived database settings and EXTERNAL_URL. Records a
problem (heimdall.validation.record) for a secret-looking key, a misspelt app
variable, a database key set by hand, or a combination that cannot work.
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
      {{- include "heimdall.validateEnvName" (dict "key" $key "where" $where "as" "setting" "root" $) }}
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
  {{- range include "heimdall.tlsFilesJson" . | fromJsonArray }}
    {{- if or (has .variable $byValue) (hasKey $secretData .variable) }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "%s is set both by value and by the mounted %s %s: give it once (the mounted file keeps the PEM out of the environment)" .variable .kind .name)) }}
    {{- end }}
    {{- $_ = set $data .variable .path }}
  {{- end }}
  {{- if not (hasKey $data "EXTERNAL_URL") }}
    {{- $url := include "heimdall.externalUrl" . }}
    {{- if $url }}{{ $_ = set $data "EXTERNAL_URL" $url }}{{ end }}
  {{- end }}
  {{- include "heimdall.config.validateCombinations" (dict "data" $data "root" $) }}
  {{- if and (eq (get $data "LDAP_SSL" | default "") "true") (not (get $data "LDAP_SSL_CA" | default "")) (not (include "heimdall.caCertificates.enabled" .)) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" "LDAP_SSL is \"true\" without LDAP_SSL_CA: Heimdall crashes at boot. Set LDAP_SSL_CA in the config, or add the CA under caCertificates") }}
  {{- end }}
  {{- toJson $data }}
{{- end }}

{{/* sha256 of the resolved ConfigMap data. */}}
{{- define "heimdall.config.checksum" -}}
  {{- include "heimdall.config.resolvedJson" . | sha256sum }}
{{- end }}
