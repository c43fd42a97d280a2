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

{{/* The variables Heimdall must get from a Secret. DATABASE_PASSWORD is left out when externalDatabase.existingSecret supplies it. */}}
{{- define "heimdall.secrets.requiredKeys" -}}
  {{- $keys := list "JWT_SECRET" "API_KEY_SECRET" "ADMIN_PASSWORD" }}
  {{- if not (include "heimdall.secrets.externalDatabasePasswordSecret" .) }}
    {{- $keys = append $keys "DATABASE_PASSWORD" }}
  {{- end }}
  {{- $keys | sortAlpha | join "," }}
{{- end }}

{{/* The Secret holding the external database's password, when externalDatabase.existingSecret is used ("" otherwise). */}}
{{- define "heimdall.secrets.externalDatabasePasswordSecret" -}}
  {{- if and (not .Values.postgresql.enabled) .Values.externalDatabase.existingSecret }}
    {{- .Values.externalDatabase.existingSecret }}
  {{- end }}
{{- end }}

{{/* Name of the Secret the chart renders (when no existingSecret is set). */}}
{{- define "heimdall.secrets.chartSecretName" -}}
  {{- printf "%s-secrets" (include "heimdall.fullname" .) }}
{{- end }}

{{/* The Secret the generator hook writes and Helm never owns: generated values outlive upgrades, renders and uninstall. */}}
{{- define "heimdall.secrets.generatedSecretName" -}}
  {{- printf "%s-generated-secrets" (include "heimdall.fullname" .) }}
{{- end }}

{{/* The resolved secrets as JSON (see the comment at the top of this file). */}}
{{- define "heimdall.secrets.resolvedJson" -}}
  {{- if not (hasKey $ "heimdallResolvedSecrets") }}
    {{- $_ := set $ "heimdallResolvedSecrets" (include "heimdall.secrets.resolve" . | fromJson) }}
  {{- end }}
  {{- get $ "heimdallResolvedSecrets" | toJson }}
{{- end }}

{{/* The Secret holding required variable .key (supplied: the selected Secret; generated: the generator's); pass (dict "root" $ "key" "JWT_SECRET"). */}}
{{- define "heimdall.secrets.secretFor" -}}
  {{- get (include "heimdall.secrets.resolvedJson" .root | fromJson).secretFor .key }}
{{- end }}

{{/* The key of required variable .key inside the Secret that holds it; pass (dict "root" $ "key" "JWT_SECRET"). */}}
{{- define "heimdall.secrets.keyFor" -}}
  {{- get (include "heimdall.secrets.resolvedJson" .root | fromJson).keys .key }}
{{- end }}

{{/* The body of the secretKeyRef that supplies DATABASE_PASSWORD, to Heimdall and to the embedded PostgreSQL alike. */}}
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
*/}}
{{- define "heimdall.secrets.checksum" -}}
  {{- $data := (include "heimdall.secrets.resolvedJson" . | fromJson).data }}
  {{- $lines := "" }}
  {{- range $key := keys $data | sortAlpha }}
    {{- $lines = printf "%s%s=%s\n" $lines $key (get $data $key | b64enc) }}
  {{- end }}
  {{- $lines | sha256sum }}
{{- end }}

{{/* The worker behind "heimdall.secrets.resolvedJson": call that instead. */}}
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
  {{- include "heimdall.secrets.checkLiveExisting" . }}
{{- end }}

{{/*
On a live install, the existingSecret as the cluster holds it: records a problem when it
lacks a required key, and lists in .out.unknownKeys the keys Heimdall does not
read (reported in NOTES). Pass the dict heimdall.secrets.resolve builds.
*/}}
{{- define "heimdall.secrets.checkLiveExisting" -}}
  {{- $out := .out }}
  {{- $root := .root }}
  {{- $v := $root.Values.heimdall }}
  {{- $live := lookup "v1" "Secret" (include "heimdall.namespace" $root) $v.existingSecret }}
  {{- if $live }}
    {{- $missing := list }}
    {{- range $key := .required }}
      {{- $mapped := get $out.keys $key }}
      {{- if not (hasKey ($live.data | default dict) $mapped) }}{{ $missing = append $missing (printf "%s (key %s)" $key $mapped) }}{{ end }}
    {{- end }}
    {{- if $missing }}
      {{- include "heimdall.validation.record" (dict "root" $root "message" (printf "heimdall.existingSecret %s in namespace %s lacks required keys: %s. Add them to the Secret, or map them to the keys it has with heimdall.existingSecretKeys" $v.existingSecret (include "heimdall.namespace" $root) (join ", " $missing))) }}
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
The chart's own Secret from what the user supplied: files in list order,
then inline values key by key over them, each entry validated, then the
strength and embedded-database password checks. Fills .out; pass the dict
heimdall.secrets.resolve builds.
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
      {{- include "heimdall.secrets.validateEntry" (dict "key" $key "value" $value "where" (printf "secrets file %s" $path) "root" $root) }}
      {{- if hasKey $out.data $key }}
        {{- $_ := set $out "hidden" (append $out.hidden (printf "%s from %s overrides %s" $key $path (get $out.sources $key))) }}
      {{- end }}
      {{- $_ := set $out.data $key $value }}
      {{- $_ = set $out.sources $key (printf "secrets file %s" $path) }}
    {{- end }}
  {{- end }}
  {{- /* 2. Inline values, key by key, over the files. */}}
  {{- range $key, $value := .inline }}
    {{- include "heimdall.secrets.validateEntry" (dict "key" $key "value" $value "where" "heimdall.secrets" "root" $root) }}
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
        {{- include "heimdall.secrets.validateStrength" (dict "key" $key "value" $value "where" (get $out.sources $key) "required" (has $key $required) "root" $root) }}
      {{- end }}
    {{- end }}
  {{- end }}
  {{- /* 4. The supplied DATABASE_PASSWORD against the one the embedded database was initialised with (only a live install can look). */}}
  {{- if and $root.Values.postgresql.enabled (hasKey $out.data "DATABASE_PASSWORD") (not $v.allowDatabasePasswordChange) }}
    {{- include "heimdall.secrets.guardDatabasePassword" (dict "root" $root "value" (get $out.data "DATABASE_PASSWORD") "source" (get $out.sources "DATABASE_PASSWORD")) }}
  {{- end }}
{{- end }}

{{/*
5. What no source supplies: generated in the cluster by the hook (a
DATABASE_PASSWORD only for the embedded database), or a problem naming the
three ways to supply it. Fills .out; pass the dict heimdall.secrets.resolve
builds, after heimdall.secrets.resolveSupplied.
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

{{/*
Records a problem when a supplied DATABASE_PASSWORD differs from the one the embedded
database was last given: the database keeps the password it was initialised
with. That is the chart's Secret's value when it holds one (supplied values,
and generated ones of chart versions before the generator hook), else the
generator's. Only a live install or upgrade can look; helm template and Argo CD
see no Secret, so this guard cannot fire there.
Pass (dict "root" $ "value" ... "source" ...). Never prints a value.
*/}}
{{- define "heimdall.secrets.guardDatabasePassword" -}}
  {{- $root := .root }}
  {{- $stored := "" }}
  {{- $storedIn := "" }}
  {{- range $name := list (include "heimdall.secrets.generatedSecretName" $root) (include "heimdall.secrets.chartSecretName" $root) }}
    {{- $data := (lookup "v1" "Secret" (include "heimdall.namespace" $root) $name).data | default dict }}
    {{- if hasKey $data "DATABASE_PASSWORD" }}
      {{- $stored = get $data "DATABASE_PASSWORD" | b64dec }}
      {{- $storedIn = $name }}
    {{- end }}
  {{- end }}
  {{- if and $storedIn (ne .value $stored) }}
    {{- include "heimdall.validation.record" (dict "root" $root "message" (printf "DATABASE_PASSWORD from %s differs from the one stored in Secret %s, and the embedded database keeps the password it was initialised with: this upgrade would lock Heimdall out of its data. Change the password inside PostgreSQL first (ALTER USER %s PASSWORD ...), then upgrade with heimdall.allowDatabasePasswordChange=true; or supply the stored password" .source $storedIn $root.Values.postgresql.auth.username)) }}
  {{- end }}
{{- end }}

{{/* Records a problem unless .key is an environment-variable name and .value a non-empty string; pass (dict "key" "where" "root"). Never prints the value. */}}
{{- define "heimdall.secrets.validateEntry" -}}
  {{- include "heimdall.validateEnvName" (dict "key" .key "where" .where "as" "secret" "root" .root) }}
  {{- if kindIs "invalid" .value }}
    {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: %s has no value; give it a string or remove the key" .where .key)) }}
  {{- else if not (kindIs "string" .value) }}
    {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: %s must be a string but arrived as %s, which can silently change a secret (leading zeros, long numbers, yes/no). Quote it in YAML, or pass it with --set-string" .where .key (kindOf .value))) }}
  {{- else if eq .value "" }}
    {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: %s is empty (is the variable that feeds it unset?). Give it a value or remove the key" .where .key)) }}
  {{- end }}
{{- end }}

{{/* Records a problem when a supplied secret is a placeholder, padded with whitespace, or too short; pass (dict "key" "value" "where" "required" "root"). Never prints the value. */}}
{{- define "heimdall.secrets.validateStrength" -}}
  {{- $min := dict "JWT_SECRET" 64 "API_KEY_SECRET" 33 "DATABASE_PASSWORD" 16 "ADMIN_PASSWORD" 15 }}
  {{- $chars := len (splitList "" .value) }}
  {{- $lower := lower .value }}
  {{- if or (regexMatch "^(changeme|change-me|password|secret|example|admin|xxx+)$" $lower) (contains "change_me" $lower) (contains "changeme" $lower) (hasPrefix "your-" $lower) (contains "randomly-generated" $lower) }}
    {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: %s is a placeholder, not a secret. Generate one (openssl rand -hex 64, or ./generate-heimdall-secrets.sh)" .where .key)) }}
  {{- else if .required }}
    {{- if ne .value (trim .value) }}
      {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: %s has leading or trailing whitespace; remove it (it would become part of the secret)" .where .key)) }}
    {{- else if lt $chars (get $min .key) }}
      {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: %s is %d characters; at least %d are required (openssl rand -hex 64 gives 128)" .where .key $chars (get $min .key))) }}
    {{- else if and (eq .key "ADMIN_PASSWORD") (gt (len .value) 72) }}
      {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: ADMIN_PASSWORD is %d bytes; bcrypt uses at most 72, so keep it between 15 and 72" .where (len .value))) }}
    {{- end }}
  {{- end }}
{{- end }}

{{/* Name of the generator hook's Job, ServiceAccount, Role and RoleBinding (a Job name must fit a 63-character label). */}}
{{- define "heimdall.secretsGenerator.name" -}}
  {{- printf "%s-secrets-generator" (include "heimdall.fullname" . | trunc 45 | trimSuffix "-") }}
{{- end }}

{{/* Labels of the generator's objects, and of the Secret it writes. */}}
{{- define "heimdall.secretsGenerator.labels" -}}
{{ include "heimdall.labels" . }}
app.kubernetes.io/component: secrets-generator
{{- end }}

{{/*
Hook annotations of the generator's objects; pass (dict "root" $ "weight" N).
Helm runs them before install and upgrade, lowest weight first, and deletes
them once every hook of the phase succeeded. Argo CD runs them as PreSync on
every sync, wave by wave, and honours the same delete policy; it is named in
Argo CD's own annotations so nothing depends on its mapping of Helm's.
*/}}
{{- define "heimdall.secretsGenerator.hookAnnotations" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
argocd.argoproj.io/hook: PreSync
argocd.argoproj.io/sync-wave: {{ .weight | quote }}
argocd.argoproj.io/hook-delete-policy: BeforeHookCreation,HookSucceeded
{{- end }}
