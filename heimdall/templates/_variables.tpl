{{/* The variables Heimdall reads (files/variables.yaml): which names may be set where, and extraEnv's entries. */}}

{{/*
Name -> class ("secrets", "either", "settings", "derived", "runtime") of every variable in files/variables.yaml, as JSON; read once per render.
Usage: {{ include "heimdall.variables.classesJson" $ }}
*/}}
{{- define "heimdall.variables.classesJson" -}}
  {{- if not (hasKey $ "heimdallVariableClasses") }}
    {{- $listed := .Files.Get "files/variables.yaml" | fromYaml }}
    {{- if or (not $listed) (hasKey $listed "Error") }}
      {{- /* The chart's own file, not a value: a broken chart fails at once. */}}
      {{- fail (printf "the chart's files/variables.yaml is missing or not YAML: %s" (get ($listed | default dict) "Error" | default "empty")) }}
    {{- end }}
    {{- $classes := dict }}
    {{- range $class := list "secrets" "either" "settings" "derived" "runtime" }}{{ range get $listed $class }}{{ $_ := set $classes . $class }}{{ end }}{{ end }}
    {{- $_ := set $classes "_booleans" (get $listed "booleans") }}
    {{- $_ := set $ "heimdallVariableClasses" $classes }}
  {{- end }}
  {{- get $ "heimdallVariableClasses" | toJson }}
{{- end }}

{{/*
The class of a known variable (see heimdall.variables.classesJson), or "".
Usage: {{ include "heimdall.variables.classOf" (dict "key" $name "root" $) }}
*/}}
{{- define "heimdall.variables.classOf" -}}
  {{- get (include "heimdall.variables.classesJson" .root | fromJson) .key }}
{{- end }}

{{/*
The known variable closest to .key, or "": the same name without
underscores, one that starts like it (JWT_SECRETS: JWT_SECRET), or the one
sharing the most words with it (at least two, the first among them:
OKTA_ISSUER: OKTA_ISSUER_URL). .classes is the variables.classesJson map.
Usage: {{ include "heimdall.variables.closest" (dict "key" .key "classes" $classes) }}
*/}}
{{- define "heimdall.variables.closest" -}}
  {{- $key := .key }}
  {{- $flat := $key | replace "_" "" }}
  {{- $words := splitList "_" $key }}
  {{- $best := "" }}
  {{- $score := 1 }}
  {{- range $name, $class := .classes }}
    {{- if kindIs "string" $class }}
      {{- $nameFlat := $name | replace "_" "" }}
      {{- $nameWords := splitList "_" $name }}
      {{- $shared := 0 }}
      {{- range $nameWords }}{{ if has . $words }}{{ $shared = add1 $shared }}{{ end }}{{ end }}
      {{- if eq $nameFlat $flat }}{{ $shared = 100 }}
      {{- else if or (hasPrefix $nameFlat $flat) (hasPrefix $flat $nameFlat) }}{{ $shared = 50 }}
      {{- else if ne (first $nameWords) (first $words) }}{{ $shared = 0 }}
      {{- end }}
      {{- if gt $shared $score }}{{ $best = $name }}{{ $score = $shared }}{{ end }}
    {{- end }}
  {{- end }}
  {{- $best }}
{{- end }}

{{/*
Records a problem unless .key is a variable Heimdall reads (files/variables.yaml) that
may be set where .where says: .as is "setting" (env/heimdallconfig.yaml,
heimdall.config), "secret" (the secrets sources) or "env" (extraEnv). A
secret is refused among settings; a derived or runtime variable is refused
everywhere (the chart sets it). An unknown name is a problem, suggesting the
closest known one, unless heimdall.allowUnknownVariables; a known
misspelling names the right spelling. Pass .root, the chart's context.
Usage: {{ include "heimdall.variables.validateName" (dict "key" $key "where" $where "as" "setting" "root" $) }}
*/}}
{{- define "heimdall.variables.validateName" -}}
  {{- $misspelt := dict "GITHUB_CLIENT_SECRET" "GITHUB_CLIENTSECRET" "GITLAB_CLIENT_SECRET" "GITLAB_SECRET" "GITLAB_CLIENTSECRET" "GITLAB_SECRET" "GOOGLE_CLIENT_SECRET" "GOOGLE_CLIENTSECRET" "OKTA_CLIENT_SECRET" "OKTA_CLIENTSECRET" "OIDC_CLIENTSECRET" "OIDC_CLIENT_SECRET" "LDAP_BIND_DN" "LDAP_BINDDN" "LDAP_BIND_PASSWORD" "LDAP_PASSWORD" "GITHUB_CLIENT_ID" "GITHUB_CLIENTID" "GITLAB_CLIENT_ID" "GITLAB_CLIENTID" "GOOGLE_CLIENT_ID" "GOOGLE_CLIENTID" "OKTA_CLIENT_ID" "OKTA_CLIENTID" "OIDC_CLIENT_ID" "OIDC_CLIENTID" }}
  {{- $classes := include "heimdall.variables.classesJson" .root | fromJson }}
  {{- $class := get $classes .key }}
  {{- if not (regexMatch "^[A-Z_][A-Z0-9_]*$" .key) }}
    {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: key %q is not an environment-variable name (use upper case, digits and underscores, e.g. JWT_SECRET)" .where .key)) }}
  {{- else if hasKey $misspelt .key }}
    {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: Heimdall does not read %s; the variable is spelt %s" .where .key (get $misspelt .key))) }}
  {{- else if not $class }}
    {{- if not .root.Values.heimdall.allowUnknownVariables }}
      {{- $closest := include "heimdall.variables.closest" (dict "key" .key "classes" $classes) }}
      {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: Heimdall does not read %s%s. The chart passes only the variables Heimdall %s reads (its files/variables.yaml); for a newer Heimdall's, set heimdall.allowUnknownVariables=true" .where .key (ternary (printf " (did you mean %s?)" $closest) "" (ne $closest "")) .root.Chart.AppVersion)) }}
    {{- end }}
  {{- else if and (eq .as "setting") (eq $class "secrets") }}
    {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: %s is a secret; non-secret settings only go here. Move it to heimdall.secrets, a secrets file or your existingSecret" .where .key)) }}
  {{- else if eq $class "derived" }}
    {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: %s is derived from the postgresql / externalDatabase values; set it there instead" .where .key)) }}
  {{- else if eq $class "runtime" }}
    {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s: the chart sets %s itself (NODE_EXTRA_CA_CERTS through caCertificates)" .where .key)) }}
  {{- end }}
{{- end }}

{{/*
Records a problem for an extraEnv entry the chart must own: a required secret (it comes
from the selected Secrets, by reference), a derived database setting, a
variable the chart sets itself, a name Heimdall does not read, a name
given twice, or a secret with a literal value (use valueFrom).
Usage: {{ include "heimdall.variables.validateExtraEnv" . }}
*/}}
{{- define "heimdall.variables.validateExtraEnv" -}}
  {{- $required := include "heimdall.secrets.requiredKeys" . | splitList "," }}
  {{- $seen := dict }}
  {{- range $i, $e := .Values.extraEnv }}
    {{- $where := printf "extraEnv[%d]" $i }}
    {{- if not (kindIs "map" $e) }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "%s must be an EnvVar object like {name: FOO, value: \"bar\"}, not %s" $where (toJson $e))) }}
    {{- else }}
      {{- $name := $e.name | default "" | toString }}
      {{- if has $name (concat $required (list "DATABASE_PASSWORD")) }}
        {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "%s: %s is a required secret the chart supplies by reference; set it through heimdall.existingSecret, heimdall.secrets or a secrets file instead" $where $name)) }}
      {{- else if hasKey $seen $name }}
        {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "%s: %s is already set by extraEnv[%d]; give each variable once" $where $name (get $seen $name))) }}
      {{- else if and (has (include "heimdall.variables.classOf" (dict "key" $name "root" $)) (list "secrets" "either")) (hasKey $e "value") }}
        {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "%s: %s is a secret and has a literal value, which would sit in the Deployment for anyone who can read it; use valueFrom.secretKeyRef, or heimdall.secrets / a secrets file" $where $name)) }}
      {{- end }}
      {{- include "heimdall.variables.validateName" (dict "key" $name "where" $where "as" "env" "root" $) }}
      {{- $_ := set $seen $name $i }}
    {{- end }}
  {{- end }}
{{- end }}
