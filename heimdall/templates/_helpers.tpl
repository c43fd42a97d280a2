{{/* Names, labels, images and database endpoints. The secret decision lives in _secrets.tpl. */}}

{{/* The chart name, or nameOverride. */}}
{{- define "heimdall.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every resource name: fullnameOverride, or "<release>-<chart>" (just the release when it already contains the chart name). */}}
{{- define "heimdall.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The helm.sh/chart label value. */}}
{{- define "heimdall.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Recommended labels of every object (without component). */}}
{{- define "heimdall.labels" -}}
helm.sh/chart: {{ include "heimdall.chart" . }}
{{ include "heimdall.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: heimdall
{{- end }}

{{/* Labels that select pods (without component). */}}
{{- define "heimdall.selectorLabels" -}}
app.kubernetes.io/name: {{ include "heimdall.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of the Heimdall server's objects. */}}
{{- define "heimdall.server.labels" -}}
{{ include "heimdall.labels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/* Labels that select the Heimdall server's pods. */}}
{{- define "heimdall.server.selectorLabels" -}}
{{ include "heimdall.selectorLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/* Labels that select the `helm test` Pod. */}}
{{- define "heimdall.test.selectorLabels" -}}
{{ include "heimdall.selectorLabels" . }}
app.kubernetes.io/component: test
{{- end }}

{{/* Labels of the embedded database's objects. */}}
{{- define "heimdall.postgresql.labels" -}}
{{ include "heimdall.labels" . }}
app.kubernetes.io/component: database
{{- end }}

{{/* Labels that select the embedded database's pod. */}}
{{- define "heimdall.postgresql.selectorLabels" -}}
{{ include "heimdall.selectorLabels" . }}
app.kubernetes.io/component: database
{{- end }}

{{/* The ServiceAccount the Heimdall pods run as. */}}
{{- define "heimdall.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "heimdall.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
An image reference from {registry, repository, tag, digest}; pass (dict
"image" $img "default" $tag "root" $). global.imageRegistry, when set,
replaces the image's own registry, so one value moves every image to a mirror.
*/}}
{{- define "heimdall.imageRef" -}}
{{- $img := .image }}
{{- $registry := .root.Values.global.imageRegistry | default $img.registry }}
{{- $repo := $img.repository }}
{{- if $registry }}{{ $repo = printf "%s/%s" $registry $img.repository }}{{ end }}
{{- if $img.digest }}
{{- printf "%s@%s" $repo $img.digest }}
{{- else }}
{{- $tag := default .default $img.tag | toString }}
{{- if eq $tag "latest" }}
{{- fail (printf "image tag \"latest\" for %s is not allowed: pin a release (the default is the chart's appVersion) or a digest" $img.repository) }}
{{- end }}
{{- printf "%s:%s" $repo $tag }}
{{- end }}
{{- end }}

{{/* The Heimdall image reference (the app, its CA init container, the secrets generator and the test pod). */}}
{{- define "heimdall.image" -}}
{{- include "heimdall.imageRef" (dict "image" .Values.image "default" .Chart.AppVersion "root" .) }}
{{- end }}

{{/*
The pull Secret names of every pod: global.imagePullSecrets, then
imagePullSecrets, each a name or {name: ...}, without repeats.
*/}}
{{- define "heimdall.imagePullSecretNames" -}}
{{- $names := list }}
{{- /* A dict ranges in key order: global.imagePullSecrets comes first. */}}
{{- range $value, $entries := dict "global.imagePullSecrets" .Values.global.imagePullSecrets "imagePullSecrets" .Values.imagePullSecrets }}
{{- range $i, $entry := $entries | default list }}
{{- $name := $entry }}
{{- if kindIs "map" $entry }}{{ $name = $entry.name }}{{ end }}
{{- if not $name }}
{{- fail (printf "%s[%d] (%s) has no name: give a name (\"regcred\") or {name: regcred}" $value $i (toJson $entry)) }}
{{- end }}
{{- $names = append $names (toString $name) }}
{{- end }}
{{- end }}
{{- $names | uniq | join "," }}
{{- end }}

{{/* The imagePullSecrets field of a pod spec, or nothing; include with nindent at the pod spec's indentation. */}}
{{- define "heimdall.imagePullSecrets" -}}
{{- $names := include "heimdall.imagePullSecretNames" . }}
{{- if $names }}
imagePullSecrets:
{{- range splitList "," $names }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/* The PostgreSQL image reference (also used by the wait-for-database init container). */}}
{{- define "heimdall.postgresql.image" -}}
{{- include "heimdall.imageRef" (dict "image" .Values.postgresql.image "default" "" "root" .) }}
{{- end }}

{{/* Name of the ConfigMap of non-secret settings. */}}
{{- define "heimdall.configMapName" -}}
{{- printf "%s-config" (include "heimdall.fullname" .) }}
{{- end }}

{{/* Name of the ConfigMap of extra CA certificates the pods mount. */}}
{{- define "heimdall.caCertificates.configMapName" -}}
{{- default (printf "%s-ca-certificates" (include "heimdall.fullname" .)) .Values.caCertificates.existingConfigMap }}
{{- end }}

{{/* "true" when extra CA certificates are configured. */}}
{{- define "heimdall.caCertificates.enabled" -}}
{{- if or .Values.caCertificates.existingConfigMap .Values.caCertificates.certificates }}true{{ end }}
{{- end }}

{{/* Name of the embedded database's StatefulSet and client Service. */}}
{{- define "heimdall.postgresql.fullname" -}}
{{- printf "%s-postgresql" (include "heimdall.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of the embedded database's headless Service. */}}
{{- define "heimdall.postgresql.headlessName" -}}
{{- printf "%s-postgresql-hl" (include "heimdall.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The database host Heimdall connects to. */}}
{{- define "heimdall.database.host" -}}
{{- if .Values.postgresql.enabled }}
{{- include "heimdall.postgresql.fullname" . }}
{{- else if .Values.externalDatabase.host }}
{{- .Values.externalDatabase.host }}
{{- else }}
{{- fail "externalDatabase.host is required when postgresql.enabled is false: set it to your PostgreSQL server's host name (or set postgresql.enabled=true for the embedded database)" }}
{{- end }}
{{- end }}

{{/* The database port Heimdall connects to. */}}
{{- define "heimdall.database.port" -}}
{{- if .Values.postgresql.enabled }}5432{{ else }}{{ .Values.externalDatabase.port }}{{ end }}
{{- end }}

{{/* The database name. */}}
{{- define "heimdall.database.name" -}}
{{- if .Values.postgresql.enabled }}{{ .Values.postgresql.auth.database }}{{ else }}{{ .Values.externalDatabase.database }}{{ end }}
{{- end }}

{{/* The database user name. */}}
{{- define "heimdall.database.username" -}}
{{- if .Values.postgresql.enabled }}{{ .Values.postgresql.auth.username }}{{ else }}{{ .Values.externalDatabase.username }}{{ end }}
{{- end }}

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
heimdall.config, then the derived database settings and EXTERNAL_URL. Fails on
a secret-looking key, a misspelt app variable, or a database key set by hand.
*/}}
{{- define "heimdall.config.resolvedJson" -}}
{{- $file := "env/heimdallconfig.yaml" }}
{{- $base := dict }}
{{- $raw := .Files.Get $file }}
{{- if $raw }}
{{- $base = fromYaml $raw }}
{{- if hasKey $base "Error" }}
{{- fail (printf "%s is not a YAML map of variable names to values: %s" $file (get $base "Error")) }}
{{- end }}
{{- end }}
{{- $data := dict }}
{{- $sources := list (list $file $base) (list "heimdall.config" (.Values.heimdall.config | default dict)) }}
{{- range $pair := $sources }}
{{- $where := index $pair 0 }}
{{- range $key, $value := index $pair 1 }}
{{- include "heimdall.validateEnvName" (dict "key" $key "where" $where "as" "setting" "root" $) }}
{{- if not (or (kindIs "string" $value) (kindIs "bool" $value) (kindIs "float64" $value) (kindIs "int64" $value) (kindIs "int" $value)) }}
{{- fail (printf "%s: %s must be a string (got %s); quote it" $where $key (kindOf $value)) }}
{{- end }}
{{- $_ := set $data $key (toString $value) }}
{{- end }}
{{- end }}
{{- /* The app compares these with "true" exactly in places: True and TRUE become true (anything else fails below). */}}
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
{{- range include "heimdall.tlsFilesJson" . | fromJsonArray }}
{{- if or (hasKey $data .variable) (hasKey $secretData .variable) }}
{{- fail (printf "%s is set both by value and by the mounted %s %s: give it once (the mounted file keeps the PEM out of the environment)" .variable .kind .name) }}
{{- end }}
{{- $_ = set $data .variable .path }}
{{- end }}
{{- if not (hasKey $data "EXTERNAL_URL") }}
{{- $url := include "heimdall.externalUrl" . }}
{{- if $url }}{{ $_ = set $data "EXTERNAL_URL" $url }}{{ end }}
{{- end }}
{{- include "heimdall.config.validateCombinations" (dict "data" $data "root" $) }}
{{- if and (eq (get $data "LDAP_SSL" | default "") "true") (not (get $data "LDAP_SSL_CA" | default "")) (not (include "heimdall.caCertificates.enabled" .)) }}
{{- fail "LDAP_SSL is \"true\" without LDAP_SSL_CA: Heimdall crashes at boot. Set LDAP_SSL_CA in the config, or add the CA under caCertificates" }}
{{- end }}
{{- toJson $data }}
{{- end }}

{{/*
Fails unless .key is a variable Heimdall reads (files/variables.yaml) that
may be set where .where says: .as is "setting" (env/heimdallconfig.yaml,
heimdall.config), "secret" (the secrets sources) or "env" (extraEnv). A
secret is refused among settings; a derived or runtime variable is refused
everywhere (the chart sets it). An unknown name fails, suggesting the
closest known one, unless heimdall.allowUnknownVariables; a known
misspelling names the right spelling. Pass .root, the chart's context.
*/}}
{{- define "heimdall.validateEnvName" -}}
{{- $misspelt := dict "GITHUB_CLIENT_SECRET" "GITHUB_CLIENTSECRET" "GITLAB_CLIENT_SECRET" "GITLAB_SECRET" "GITLAB_CLIENTSECRET" "GITLAB_SECRET" "GOOGLE_CLIENT_SECRET" "GOOGLE_CLIENTSECRET" "OKTA_CLIENT_SECRET" "OKTA_CLIENTSECRET" "OIDC_CLIENTSECRET" "OIDC_CLIENT_SECRET" "LDAP_BIND_DN" "LDAP_BINDDN" "LDAP_BIND_PASSWORD" "LDAP_PASSWORD" "GITHUB_CLIENT_ID" "GITHUB_CLIENTID" "GITLAB_CLIENT_ID" "GITLAB_CLIENTID" "GOOGLE_CLIENT_ID" "GOOGLE_CLIENTID" "OKTA_CLIENT_ID" "OKTA_CLIENTID" "OIDC_CLIENT_ID" "OIDC_CLIENTID" }}
{{- if not (regexMatch "^[A-Z_][A-Z0-9_]*$" .key) }}
{{- fail (printf "%s: key %q is not an environment-variable name (use upper case, digits and underscores, e.g. JWT_SECRET)" .where .key) }}
{{- end }}
{{- if hasKey $misspelt .key }}
{{- fail (printf "%s: Heimdall does not read %s; the variable is spelt %s" .where .key (get $misspelt .key)) }}
{{- end }}
{{- $classes := include "heimdall.variables.classesJson" .root | fromJson }}
{{- $class := get $classes .key }}
{{- if not $class }}
{{- if not .root.Values.heimdall.allowUnknownVariables }}
{{- $closest := include "heimdall.variables.closest" (dict "key" .key "classes" $classes) }}
{{- fail (printf "%s: Heimdall does not read %s%s. The chart passes only the variables Heimdall %s reads (its files/variables.yaml); for a newer Heimdall's, set heimdall.allowUnknownVariables=true" .where .key (ternary (printf " (did you mean %s?)" $closest) "" (ne $closest "")) .root.Chart.AppVersion) }}
{{- end }}
{{- else if and (eq .as "setting") (eq $class "secrets") }}
{{- fail (printf "%s: %s is a secret; non-secret settings only go here. Move it to heimdall.secrets, a secrets file or your existingSecret" .where .key) }}
{{- else if eq $class "derived" }}
{{- fail (printf "%s: %s is derived from the postgresql / externalDatabase values; set it there instead" .where .key) }}
{{- else if eq $class "runtime" }}
{{- fail (printf "%s: the chart sets %s itself (NODE_EXTRA_CA_CERTS through caCertificates)" .where .key) }}
{{- end }}
{{- end }}

{{/* Name -> class ("secrets", "either", "settings", "derived", "runtime") of every variable in files/variables.yaml, as JSON; read once per render. */}}
{{- define "heimdall.variables.classesJson" -}}
{{- if not (hasKey $ "heimdallVariableClasses") }}
{{- $listed := .Files.Get "files/variables.yaml" | fromYaml }}
{{- if or (not $listed) (hasKey $listed "Error") }}
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
The known variable closest to .key, or "": the same name without
underscores, one that starts like it (JWT_SECRETS: JWT_SECRET), or the one
sharing the most words with it (at least two, the first among them:
OKTA_ISSUER: OKTA_ISSUER_URL). .classes is the variables.classesJson map.
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

{{/* The class of a known variable (see heimdall.variables.classesJson), or "". */}}
{{- define "heimdall.variables.classOf" -}}
{{- get (include "heimdall.variables.classesJson" .root | fromJson) .key }}
{{- end }}

{{/* sha256 of the resolved ConfigMap data. */}}
{{- define "heimdall.config.checksum" -}}
{{- include "heimdall.config.resolvedJson" . | sha256sum }}
{{- end }}

{{/* The timing fields of a probe from its values block. */}}
{{- define "heimdall.probeTimings" -}}
initialDelaySeconds: {{ .initialDelaySeconds }}
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
failureThreshold: {{ .failureThreshold }}
{{- end }}

{{/* Heimdall's replica count as the PodDisruptionBudget sees it: the HPA's minReplicas when autoscaling, else replicaCount. */}}
{{- define "heimdall.pdb.replicas" -}}
{{- if .Values.autoscaling.enabled }}{{ .Values.autoscaling.minReplicas | int }}{{ else }}{{ .Values.replicaCount | int }}{{ end }}
{{- end }}

{{/* The PodDisruptionBudget's bound as written, for messages ("minAvailable 1"). */}}
{{- define "heimdall.pdb.bound" -}}
{{- $p := .Values.podDisruptionBudget }}
{{- if not (kindIs "invalid" $p.minAvailable) }}minAvailable {{ $p.minAvailable }}{{ else }}maxUnavailable {{ $p.maxUnavailable }}{{ end }}
{{- end }}

{{/* Voluntary disruptions the PodDisruptionBudget allows at heimdall.pdb.replicas; percentages round up, as Kubernetes' disruption controller does. */}}
{{- define "heimdall.pdb.allowedDisruptions" -}}
{{- $p := .Values.podDisruptionBudget }}
{{- $replicas := include "heimdall.pdb.replicas" . | int }}
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
Fails on an extraEnv entry the chart must own: a required secret (it comes
from the selected Secrets, by reference), a derived database setting, a
variable the chart sets itself, a name Heimdall does not read, a name
given twice, or a secret with a literal value (use valueFrom).
*/}}
{{- define "heimdall.validateExtraEnv" -}}
{{- $required := include "heimdall.secrets.requiredKeys" . | splitList "," }}
{{- $seen := dict }}
{{- range $i, $e := .Values.extraEnv }}
{{- $where := printf "extraEnv[%d]" $i }}
{{- if not (kindIs "map" $e) }}
{{- fail (printf "%s must be an EnvVar object like {name: FOO, value: \"bar\"}, not %s" $where (toJson $e)) }}
{{- end }}
{{- $name := $e.name | default "" | toString }}
{{- if has $name (concat $required (list "DATABASE_PASSWORD")) }}
{{- fail (printf "%s: %s is a required secret the chart supplies by reference; set it through heimdall.existingSecret, heimdall.secrets or a secrets file instead" $where $name) }}
{{- end }}
{{- include "heimdall.validateEnvName" (dict "key" $name "where" $where "as" "env" "root" $) }}
{{- if hasKey $seen $name }}
{{- fail (printf "%s: %s is already set by extraEnv[%d]; give each variable once" $where $name (get $seen $name)) }}
{{- end }}
{{- $_ := set $seen $name $i }}
{{- if and (has (include "heimdall.variables.classOf" (dict "key" $name "root" $)) (list "secrets" "either")) (hasKey $e "value") }}
{{- fail (printf "%s: %s is a secret and has a literal value, which would sit in the Deployment for anyone who can read it; use valueFrom.secretKeyRef, or heimdall.secrets / a secrets file" $where $name) }}
{{- end }}
{{- end }}
{{- end }}

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
"true" when security contexts leave user and group IDs to OpenShift's SCC:
global.compatibility.openshift.adaptSecurityContext "force", or "auto" on a
cluster that serves security.openshift.io/v1; "" otherwise.
*/}}
{{- define "heimdall.openshift.adaptSecurityContext" -}}
{{- $mode := dig "compatibility" "openshift" "adaptSecurityContext" "auto" (.Values.global | default dict) }}
{{- if not (has $mode (list "auto" "force" "disabled")) }}
{{- fail (printf "global.compatibility.openshift.adaptSecurityContext is %q: use auto, force or disabled" $mode) }}
{{- end }}
{{- if or (eq $mode "force") (and (eq $mode "auto") (.Capabilities.APIVersions.Has "security.openshift.io/v1")) }}true{{ end }}
{{- end }}

{{/* A pod or container security context as YAML, without runAsUser, runAsGroup and fsGroup on OpenShift; pass (dict "context" $sc "root" $). */}}
{{- define "heimdall.securityContext" -}}
{{- $sc := .context }}
{{- if include "heimdall.openshift.adaptSecurityContext" .root }}
{{- $sc = omit $sc "runAsUser" "runAsGroup" "fsGroup" }}
{{- end }}
{{- toYaml $sc }}
{{- end }}

{{/*
Fails on settings that render but cannot work, naming the values and never
printing a secret: EXTERNAL_URL (set or derived) not an absolute http(s)
URL or with a trailing slash (OAuth callbacks break), or http with an
OAuth provider on (unless heimdall.allowInsecureExternalUrl), or unset with a
provider on (no callback URL can be built); a provider's
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
{{- $url := get $d "EXTERNAL_URL" | default "" }}
{{- if and $on (not $url) }}
{{- fail (printf "%s login is on but EXTERNAL_URL is not set, so Heimdall cannot build its callback URLs: set heimdall.config.EXTERNAL_URL, or enable an ingress, httpRoute or route with a host" (join ", " $on)) }}
{{- end }}
{{- if $url }}
{{- if not (regexMatch "^https?://[^/?#\\s]+(/[^?#\\s]*)?$" $url) }}
{{- fail (printf "EXTERNAL_URL %q is not an absolute http or https URL: OAuth callbacks are built from it (e.g. https://heimdall.example.com)" $url) }}
{{- end }}
{{- if hasSuffix "/" $url }}
{{- fail (printf "EXTERNAL_URL %q ends with a slash: the OAuth callback paths would start with // (heimdall2 issue 7542); drop the trailing slash" $url) }}
{{- end }}
{{- if and (hasPrefix "http://" $url) $on (not $root.Values.heimdall.allowInsecureExternalUrl) }}
{{- fail (printf "EXTERNAL_URL %q is plain http while %s login is on: tokens and sessions would cross the network in clear. Use https, or set heimdall.allowInsecureExternalUrl=true" $url (join ", " $on)) }}
{{- end }}
{{- end }}
{{- include "heimdall.config.validateJwtExpireTime" (get $d "JWT_EXPIRE_TIME" | default "") }}
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
The TLS files Heimdall reads, as JSON: a list of {variable, volume, path,
kind, name, key} for DATABASE_SSL_CA/_CERT/_KEY (externalDatabase.tls) and
LDAP_SSL_CA (ldapTls), each mounted read-only under /etc/heimdall/. Fails on
a combination that cannot work, naming the values.
*/}}
{{- define "heimdall.tlsFilesJson" -}}
{{- $files := list }}
{{- $db := .Values.externalDatabase.tls }}
{{- if or $db.existingSecret $db.caConfigMap }}
{{- if .Values.postgresql.enabled }}
{{- fail "externalDatabase.tls is set, but postgresql.enabled is true: the embedded database is reached without TLS. Set postgresql.enabled=false to use an external database" }}
{{- end }}
{{- if not .Values.externalDatabase.ssl }}
{{- fail "externalDatabase.tls is set, but externalDatabase.ssl is false: Heimdall would not use TLS. Set externalDatabase.ssl=true" }}
{{- end }}
{{- if and $db.existingSecret $db.caKey $db.caConfigMap }}
{{- fail "externalDatabase.tls has a CA twice: in existingSecret (caKey) and in caConfigMap. Set caKey to \"\" or drop caConfigMap" }}
{{- end }}
{{- if $db.existingSecret }}
{{- range $variable, $key := dict "DATABASE_SSL_CA" $db.caKey "DATABASE_SSL_CERT" $db.certKey "DATABASE_SSL_KEY" $db.keyKey }}
{{- if $key }}
{{- $files = append $files (dict "variable" $variable "volume" "database-tls" "path" (printf "/etc/heimdall/database-tls/%s" $key) "kind" "Secret" "name" $db.existingSecret "key" $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- if $db.caConfigMap }}
{{- $files = append $files (dict "variable" "DATABASE_SSL_CA" "volume" "database-ca" "path" (printf "/etc/heimdall/database-ca/%s" $db.caConfigMapKey) "kind" "ConfigMap" "name" $db.caConfigMap "key" $db.caConfigMapKey) }}
{{- end }}
{{- end }}
{{- $ldap := .Values.ldapTls }}
{{- if and $ldap.caConfigMap $ldap.caSecret }}
{{- fail "ldapTls has both caConfigMap and caSecret: give the LDAP CA once" }}
{{- end }}
{{- with $ldap.caConfigMap }}
{{- $files = append $files (dict "variable" "LDAP_SSL_CA" "volume" "ldap-ca" "path" (printf "/etc/heimdall/ldap-ca/%s" $ldap.caKey) "kind" "ConfigMap" "name" . "key" $ldap.caKey) }}
{{- end }}
{{- with $ldap.caSecret }}
{{- $files = append $files (dict "variable" "LDAP_SSL_CA" "volume" "ldap-ca" "path" (printf "/etc/heimdall/ldap-ca/%s" $ldap.caKey) "kind" "Secret" "name" . "key" $ldap.caKey) }}
{{- end }}
{{- toJson $files }}
{{- end }}

{{/* The volumes holding the TLS files (one per source), for the Heimdall pod's volumes list. */}}
{{- define "heimdall.tlsVolumes" -}}
{{- $byVolume := dict }}
{{- range include "heimdall.tlsFilesJson" . | fromJsonArray }}
{{- $v := get $byVolume .volume | default (dict "kind" .kind "name" .name "keys" list) }}
{{- $_ := set $v "keys" (append $v.keys .key) }}
{{- $_ = set $byVolume .volume $v }}
{{- end }}
{{- range $volume, $v := $byVolume }}
- name: {{ $volume }}
  {{- if eq $v.kind "Secret" }}
  secret:
    secretName: {{ $v.name }}
    # 0440: the key is readable by the pod's group (fsGroup) only.
    defaultMode: 288
  {{- else }}
  configMap:
    name: {{ $v.name }}
  {{- end }}
    items:
      {{- range $key := $v.keys }}
      - key: {{ $key }}
        path: {{ $key }}
      {{- end }}
{{- end }}
{{- end }}

{{/* Where the TLS volumes are mounted: a folder each, not subPath, so a renewed certificate reaches the pod. */}}
{{- define "heimdall.tlsVolumeMounts" -}}
{{- $volumes := list }}
{{- range include "heimdall.tlsFilesJson" . | fromJsonArray }}{{ $volumes = append $volumes .volume }}{{ end }}
{{- range $volumes | uniq | sortAlpha }}
- name: {{ . }}
  mountPath: /etc/heimdall/{{ . }}
  readOnly: true
{{- end }}
{{- end }}
