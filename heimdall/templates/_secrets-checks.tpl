{{/*
The checks of supplied secrets: each entry's form and strength, and, on a
live install, the existingSecret's keys and the embedded database's stored
password. None prints a value.
*/}}

{{/*
Records a problem unless .key is an environment-variable name and .value a non-empty string; pass (dict "key" "where" "root"). Never prints the value.
Usage: {{ include "heimdall.secretsChecks.entry" (dict "key" $key "value" $value "where" "heimdall.secrets" "root" $) }}
*/}}
{{- define "heimdall.secretsChecks.entry" -}}
  {{- include "heimdall.variables.validateName" (dict "key" .key "where" .where "as" "secret" "root" .root) }}
  {{- if kindIs "invalid" .value }}
    {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: %s has no value; give it a string or remove the key" .where .key)) }}
  {{- else if not (kindIs "string" .value) }}
    {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: %s must be a string but arrived as %s, which can silently change a secret (leading zeros, long numbers, yes/no). Quote it in YAML, or pass it with --set-string" .where .key (kindOf .value))) }}
  {{- else if eq .value "" }}
    {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: %s is empty (is the variable that feeds it unset?). Give it a value or remove the key" .where .key)) }}
  {{- end }}
{{- end }}

{{/*
Records a problem when a supplied secret is a placeholder, padded with whitespace, or too short; pass (dict "key" "value" "where" "required" "root"). Never prints the value.
Usage: {{ include "heimdall.secretsChecks.strength" (dict "key" $key "value" $value "where" "heimdall.secrets (inline)" "required" true "root" $) }}
*/}}
{{- define "heimdall.secretsChecks.strength" -}}
  {{- $min := (include "heimdall.tables.json" .root | fromJson).secretMinimumLengths }}
  {{- $chars := len (splitList "" .value) }}
  {{- $lower := lower .value }}
  {{- if or (regexMatch "^(changeme|change-me|password|secret|example|admin|xxx+)$" $lower) (contains "change_me" $lower) (contains "changeme" $lower) (hasPrefix "your-" $lower) (contains "randomly-generated" $lower) }}
    {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: %s is a placeholder, not a secret. Generate one (openssl rand -hex 64, or ./generate-heimdall-secrets.sh)" .where .key)) }}
  {{- else if .required }}
    {{- if ne .value (trim .value) }}
      {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: %s has leading or trailing whitespace; remove it (it would become part of the secret)" .where .key)) }}
    {{- else if lt $chars (get $min .key | int) }}
      {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: %s is %d characters; at least %d are required (openssl rand -hex 64 gives 128)" .where .key $chars (get $min .key | int))) }}
    {{- else if and (eq .key "ADMIN_PASSWORD") (gt (len .value) 72) }}
      {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: ADMIN_PASSWORD is %d bytes; bcrypt uses at most 72, so keep it between 15 and 72" .where (len .value))) }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
On a live install, the existingSecret as the cluster holds it: records a problem when it
lacks a required key, and lists in .out.unknownKeys the keys Heimdall does not
read (reported in NOTES). Pass the dict heimdall.secrets.resolve builds.
Usage: {{ include "heimdall.secretsChecks.liveExistingSecret" $step }}
*/}}
{{- define "heimdall.secretsChecks.liveExistingSecret" -}}
  {{- $out := .out }}
  {{- $root := .root }}
  {{- $v := $root.Values.heimdall }}
  {{- $live := lookup "v1" "Secret" (include "heimdall.names.namespace" $root) $v.existingSecret }}
  {{- if $live }}
    {{- $missing := list }}
    {{- range $key := .required }}
      {{- $mapped := get $out.keys $key }}
      {{- if not (hasKey ($live.data | default dict) $mapped) }}{{ $missing = append $missing (printf "%s (key %s)" $key $mapped) }}{{ end }}
    {{- end }}
    {{- if $missing }}
      {{- include "heimdall.validation.record" (dict "root" $root "message" (printf "heimdall.existingSecret %s in namespace %s lacks required keys: %s. Add them to the Secret, or map them to the keys it has with heimdall.existingSecretKeys" $v.existingSecret (include "heimdall.names.namespace" $root) (join ", " $missing))) }}
    {{- end }}
    {{- /* Keys Heimdall does not read reach it through envFrom and are ignored: reported in NOTES, not fatal (the Secret is the user's). */}}
    {{- if not $v.allowUnknownVariables }}
      {{- $classes := include "heimdall.variables.classesJson" $root | fromJson }}
      {{- $unknown := list }}
      {{- range $key := keys ($live.data | default dict) | sortAlpha }}
        {{- if not (or (hasKey $classes $key) (has $key (values $out.keys))) }}{{ $unknown = append $unknown $key }}{{ end }}
      {{- end }}
      {{- $_ := set $out "unknownKeys" $unknown }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
Records a problem when a supplied DATABASE_PASSWORD differs from the one the embedded
database was last given: the database keeps the password it was initialised
with. That is the chart's Secret's value when it holds one (supplied values,
and generated ones of chart versions before the generator hook), else the
generator's. Only a live install or upgrade can look; helm template and Argo CD
see no Secret, so this guard cannot fire there.
Pass (dict "root" $ "value" ... "source" ...). Never prints a value.
Usage: {{ include "heimdall.secretsChecks.databasePassword" (dict "root" $ "value" $password "source" "heimdall.secrets (inline)") }}
*/}}
{{- define "heimdall.secretsChecks.databasePassword" -}}
  {{- $root := .root }}
  {{- $stored := "" }}
  {{- $storedIn := "" }}
  {{- range $name := list (include "heimdall.secrets.generatedSecretName" $root) (include "heimdall.secrets.chartSecretName" $root) }}
    {{- $data := (lookup "v1" "Secret" (include "heimdall.names.namespace" $root) $name).data | default dict }}
    {{- if hasKey $data "DATABASE_PASSWORD" }}
      {{- $stored = get $data "DATABASE_PASSWORD" | b64dec }}
      {{- $storedIn = $name }}
    {{- end }}
  {{- end }}
  {{- if and $storedIn (ne .value $stored) }}
    {{- include "heimdall.validation.record" (dict "root" $root "message" (printf "DATABASE_PASSWORD from %s differs from the one stored in Secret %s, and the embedded database keeps the password it was initialised with: this upgrade would lock Heimdall out of its data. Change the password inside PostgreSQL first (ALTER USER %s PASSWORD ...), then upgrade with heimdall.allowDatabasePasswordChange=true; or supply the stored password" .source $storedIn $root.Values.postgresql.auth.username)) }}
  {{- end }}
{{- end }}
