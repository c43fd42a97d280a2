{{/*
The secret decision, made once per render. Every consumer (the Secret, the
checksum annotation, the secretKeyRefs, the generator hook, NOTES) asks
"heimdall.secrets.resolvedJson" and none re-derives it.

Nothing here is random: required keys no source supplies are generated in the
cluster by the secrets-generator hook Job (templates/secrets-generator-*.yaml)
into a Secret Helm does not own, so every render of the same inputs is
identical, with or without a cluster to look up.

Result (a dict, cached on the root context):
  mode        "existing" or "chart"
  secretName  the Secret holding supplied keys (existingSecret, or the chart's)
  keys        required variable -> key inside the Secret that holds it
  secretFor   required variable -> the Secret that holds it
  data        variable -> supplied value ("chart" mode only)
  sources     variable -> where its value comes from (names only, never values)
  generated   required variables the generator hook fills in the cluster
  generatedSecretName  the Secret the generator writes ("" when nothing is generated)
  hidden      human-readable notes on lower-priority sources that were ignored
  skipped     listed secrets files that do not exist
*/}}

{{/*
The variables Heimdall must get from a Secret. DATABASE_PASSWORD is left out when externalDatabase.existingSecret supplies it.
Usage: {{ include "heimdall.secrets.requiredKeys" . }}
*/}}
{{- define "heimdall.secrets.requiredKeys" -}}
  {{- $keys := list "JWT_SECRET" "API_KEY_SECRET" "ADMIN_PASSWORD" }}
  {{- if not (include "heimdall.secrets.externalDatabasePasswordSecret" .) }}
    {{- $keys = append $keys "DATABASE_PASSWORD" }}
  {{- end }}
  {{- $keys | sortAlpha | join "," }}
{{- end }}

{{/*
The Secret holding the external database's password, when externalDatabase.existingSecret is used ("" otherwise).
Usage: {{ include "heimdall.secrets.externalDatabasePasswordSecret" . }}
*/}}
{{- define "heimdall.secrets.externalDatabasePasswordSecret" -}}
  {{- if and (not .Values.postgresql.enabled) .Values.externalDatabase.existingSecret }}
    {{- .Values.externalDatabase.existingSecret }}
  {{- end }}
{{- end }}

{{/*
Name of the Secret the chart renders (when no existingSecret is set).
Usage: {{ include "heimdall.secrets.chartSecretName" . }}
*/}}
{{- define "heimdall.secrets.chartSecretName" -}}
  {{- printf "%s-secrets" (include "heimdall.fullname" .) }}
{{- end }}

{{/*
The Secret the generator hook writes and Helm never owns: generated values outlive upgrades, renders and uninstall.
Usage: {{ include "heimdall.secrets.generatedSecretName" . }}
*/}}
{{- define "heimdall.secrets.generatedSecretName" -}}
  {{- printf "%s-generated-secrets" (include "heimdall.fullname" .) }}
{{- end }}

{{/*
The resolved secrets as JSON (see the comment at the top of this file).
Usage: {{ include "heimdall.secrets.resolvedJson" . }}
*/}}
{{- define "heimdall.secrets.resolvedJson" -}}
  {{- if not (hasKey $ "heimdallResolvedSecrets") }}
    {{- $_ := set $ "heimdallResolvedSecrets" (include "heimdall.secrets.resolve" . | fromJson) }}
  {{- end }}
  {{- get $ "heimdallResolvedSecrets" | toJson }}
{{- end }}

{{/*
The Secret holding required variable .key (supplied: the selected Secret; generated: the generator's); pass (dict "root" $ "key" "JWT_SECRET").
Usage: {{ include "heimdall.secrets.secretFor" (dict "root" . "key" "DATABASE_PASSWORD") }}
*/}}
{{- define "heimdall.secrets.secretFor" -}}
  {{- get (include "heimdall.secrets.resolvedJson" .root | fromJson).secretFor .key }}
{{- end }}

{{/*
The key of required variable .key inside the Secret that holds it; pass (dict "root" $ "key" "JWT_SECRET").
Usage: {{ include "heimdall.secrets.keyFor" (dict "root" . "key" "DATABASE_PASSWORD") }}
*/}}
{{- define "heimdall.secrets.keyFor" -}}
  {{- get (include "heimdall.secrets.resolvedJson" .root | fromJson).keys .key }}
{{- end }}

{{/*
The body of the secretKeyRef that supplies DATABASE_PASSWORD, to Heimdall and to the embedded PostgreSQL alike.
Usage: {{ include "heimdall.secrets.databasePasswordRef" . }}
*/}}
{{- define "heimdall.secrets.databasePasswordRef" -}}
  {{- $external := include "heimdall.secrets.externalDatabasePasswordSecret" . }}
  {{- if $external }}
name: {{ $external | quote }}
key: {{ .Values.externalDatabase.existingSecretPasswordKey | quote }}
  {{- else }}
name: {{ include "heimdall.secrets.secretFor" (dict "root" . "key" "DATABASE_PASSWORD") | quote }}
key: {{ include "heimdall.secrets.keyFor" (dict "root" . "key" "DATABASE_PASSWORD") | quote }}
  {{- end }}
optional: false
{{- end }}

{{/*
sha256 of the resolved data: over the sorted keys, one line "KEY=<base64 of
value>\n" each. Hashing the data (not a re-rendered template) means an
unchanged value never rolls the pods. The test harness recomputes it.
Usage: {{ include "heimdall.secrets.checksum" . }}
*/}}
{{- define "heimdall.secrets.checksum" -}}
  {{- $data := (include "heimdall.secrets.resolvedJson" . | fromJson).data }}
  {{- $lines := "" }}
  {{- range $key := keys $data | sortAlpha }}
    {{- $lines = printf "%s%s=%s\n" $lines $key (get $data $key | b64enc) }}
  {{- end }}
  {{- $lines | sha256sum }}
{{- end }}

{{/*
The worker behind "heimdall.secrets.resolvedJson": call that instead.
Usage: {{ include "heimdall.secrets.resolve" . }}
*/}}
{{- define "heimdall.secrets.resolve" -}}
  {{- $v := .Values.heimdall }}
  {{- $out := dict "generated" list "generatedSecretName" "" "hidden" list "skipped" list "sources" dict "keys" dict "secretFor" dict "data" dict }}
  {{- $existingFiles := list }}
  {{- range $path := $v.secretsFiles | default list }}
    {{- if $.Files.Glob $path }}{{ $existingFiles = append $existingFiles $path }}{{ else }}{{ $_ := set $out "skipped" (append $out.skipped $path) }}{{ end }}
  {{- end }}
  {{- $step := dict "out" $out "root" $ "required" (include "heimdall.secrets.requiredKeys" . | splitList ",") "inline" ($v.secrets | default dict) "files" $existingFiles }}
  {{- if $v.existingSecret }}
    {{- include "heimdall.secrets.resolveExisting" $step }}
  {{- else }}
    {{- include "heimdall.secrets.resolveSupplied" $step }}
    {{- include "heimdall.secrets.resolveMissing" $step }}
  {{- end }}
  {{- toJson $out }}
{{- end }}

{{/*
heimdall.existingSecret: every required key is read from it (mapped by
existingSecretKeys); inline secrets and files are reported as ignored. Fills
.out; pass the dict heimdall.secrets.resolve builds ("out" "root" "required"
"inline" "files").
Usage: {{ include "heimdall.secrets.resolveExisting" $step }}
*/}}
{{- define "heimdall.secrets.resolveExisting" -}}
  {{- $out := .out }}
  {{- $v := .root.Values.heimdall }}
  {{- /* existingSecret: nothing here may depend on lookup to render (helm template, Argo CD and helm-diff see none). */}}
  {{- $_ := set $out "mode" "existing" }}
  {{- $_ = set $out "secretName" $v.existingSecret }}
  {{- range $key := .required }}
    {{- $mapped := get ($v.existingSecretKeys | default dict) $key | default $key }}
    {{- $_ := set $out.keys $key $mapped }}
    {{- $_ = set $out.secretFor $key $v.existingSecret }}
    {{- $_ = set $out.sources $key (printf "existingSecret %s (key %s)" $v.existingSecret $mapped) }}
  {{- end }}
  {{- if .inline }}
    {{- $_ := set $out "hidden" (append $out.hidden (printf "heimdall.secrets (%s) is ignored because heimdall.existingSecret is set" (keys .inline | sortAlpha | join ", "))) }}
  {{- end }}
  {{- range .files }}
    {{- $_ := set $out "hidden" (append $out.hidden (printf "secrets file %s is ignored because heimdall.existingSecret is set" .)) }}
  {{- end }}
  {{- include "heimdall.secretsChecks.liveExistingSecret" . }}
{{- end }}

{{/*
The chart's own Secret from what the user supplied: files in list order,
then inline values key by key over them, each entry validated, then the
strength and embedded-database password checks. Fills .out; pass the dict
heimdall.secrets.resolve builds.
Usage: {{ include "heimdall.secrets.resolveSupplied" $step }}
*/}}
{{- define "heimdall.secrets.resolveSupplied" -}}
  {{- $out := .out }}
  {{- $root := .root }}
  {{- $v := $root.Values.heimdall }}
  {{- $required := .required }}
  {{- $files := .files }}
  {{- $_ := set $out "mode" "chart" }}
  {{- $_ = set $out "secretName" (include "heimdall.secrets.chartSecretName" $root) }}
  {{- range $key := $required }}{{ $_ := set $out.keys $key $key }}{{ end }}
  {{- /* 1. Files, in list order, each parsed as YAML. */}}
  {{- range $path := $files }}
    {{- $raw := $root.Files.Get $path }}
    {{- $parsed := dict }}
    {{- if $raw }}{{ $parsed = fromYaml $raw }}{{ end }}
    {{- if hasKey $parsed "Error" }}
      {{- include "heimdall.validation.record" (dict "root" $root "message" (printf "secrets file %s is not a YAML map of variable names to string values: %s" $path (get $parsed "Error"))) }}
      {{- $parsed = dict }}
    {{- else if not $parsed }}
      {{- include "heimdall.validation.record" (dict "root" $root "message" (printf "secrets file %s exists but holds no keys: fill it (./generate-heimdall-secrets.sh) or remove it from heimdall.secretsFiles" $path)) }}
    {{- end }}
    {{- range $key, $value := $parsed }}
      {{- include "heimdall.secretsChecks.entry" (dict "key" $key "value" $value "where" (printf "secrets file %s" $path) "root" $root) }}
      {{- if hasKey $out.data $key }}
        {{- $_ := set $out "hidden" (append $out.hidden (printf "%s from %s overrides %s" $key $path (get $out.sources $key))) }}
      {{- end }}
      {{- $_ := set $out.data $key $value }}
      {{- $_ = set $out.sources $key (printf "secrets file %s" $path) }}
    {{- end }}
  {{- end }}
  {{- /* 2. Inline values, key by key, over the files. */}}
  {{- range $key, $value := .inline }}
    {{- include "heimdall.secretsChecks.entry" (dict "key" $key "value" $value "where" "heimdall.secrets" "root" $root) }}
    {{- if hasKey $out.data $key }}
      {{- $_ := set $out "hidden" (append $out.hidden (printf "%s from heimdall.secrets overrides %s" $key (get $out.sources $key))) }}
    {{- end }}
    {{- $_ := set $out.data $key $value }}
    {{- $_ = set $out.sources $key "heimdall.secrets (inline)" }}
  {{- end }}
  {{- /* 3. Strength of what was supplied. */}}
  {{- if not $v.allowWeakSecrets }}
    {{- range $key, $value := $out.data }}
      {{- if and (kindIs "string" $value) $value }}
        {{- include "heimdall.secretsChecks.strength" (dict "key" $key "value" $value "where" (get $out.sources $key) "required" (has $key $required) "root" $root) }}
      {{- end }}
    {{- end }}
  {{- end }}
  {{- /* 4. The supplied DATABASE_PASSWORD against the one the embedded database was initialised with (only a live install can look). */}}
  {{- if and $root.Values.postgresql.enabled (hasKey $out.data "DATABASE_PASSWORD") (not $v.allowDatabasePasswordChange) }}
    {{- include "heimdall.secretsChecks.databasePassword" (dict "root" $root "value" (get $out.data "DATABASE_PASSWORD") "source" (get $out.sources "DATABASE_PASSWORD")) }}
  {{- end }}
{{- end }}

{{/*
5. What no source supplies: generated in the cluster by the hook (a
DATABASE_PASSWORD only for the embedded database), or a problem naming the
three ways to supply it. Fills .out; pass the dict heimdall.secrets.resolve
builds, after heimdall.secrets.resolveSupplied.
Usage: {{ include "heimdall.secrets.resolveMissing" $step }}
*/}}
{{- define "heimdall.secrets.resolveMissing" -}}
  {{- $out := .out }}
  {{- $root := .root }}
  {{- $v := $root.Values.heimdall }}
  {{- $generatedName := include "heimdall.secrets.generatedSecretName" $root }}
  {{- $missing := list }}
  {{- range $key := .required }}
    {{- if hasKey $out.data $key }}
      {{- $_ := set $out.secretFor $key $out.secretName }}
    {{- else if and $v.generateMissingSecrets (or (ne $key "DATABASE_PASSWORD") $root.Values.postgresql.enabled) }}
      {{- $_ := set $out.secretFor $key $generatedName }}
      {{- $_ = set $out.sources $key (printf "generated in the cluster into Secret %s, if absent" $generatedName) }}
      {{- $_ = set $out "generated" (append $out.generated $key) }}
      {{- $_ = set $out "generatedSecretName" $generatedName }}
    {{- else }}
      {{- $missing = append $missing $key }}
    {{- end }}
  {{- end }}
  {{- if $missing }}
    {{- $why := "heimdall.generateMissingSecrets is false" }}
    {{- if and (not $root.Values.postgresql.enabled) (has "DATABASE_PASSWORD" $missing) $v.generateMissingSecrets }}
      {{- $why = "a generated DATABASE_PASSWORD cannot match an external database" }}
    {{- end }}
    {{- include "heimdall.validation.record" (dict "root" $root "message" (printf "missing required secrets: %s (%s). Supply them in one of three ways: 1) heimdall.existingSecret, a Secret you create with these keys; 2) heimdall.secrets, e.g. --set heimdall.secrets.%s=...; 3) a file listed in heimdall.secretsFiles, e.g. env/heimdall-secrets.yaml written by ./generate-heimdall-secrets.sh" (join ", " $missing) $why (first $missing))) }}
  {{- end }}
{{- end }}
