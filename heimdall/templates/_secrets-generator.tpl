{{/*
The secrets-generator hook's objects: their name, labels and hook annotations (the templates are secrets-generator-*.yaml).
*/}}

{{/*
Name of the generator hook's Job, ServiceAccount, Role and RoleBinding (a Job name must fit a 63-character label).
Usage: {{ include "heimdall.secretsGenerator.name" . }}
*/}}
{{- define "heimdall.secretsGenerator.name" -}}
  {{- printf "%s-secrets-generator" (include "heimdall.fullname" . | trunc 45 | trimSuffix "-") }}
{{- end }}

{{/*
Labels of the generator's objects, and of the Secret it writes.
Usage: {{ include "heimdall.secretsGenerator.labels" . }}
*/}}
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
Usage: {{ include "heimdall.secretsGenerator.hookAnnotations" (dict "root" $ "weight" 0) }}
*/}}
{{- define "heimdall.secretsGenerator.hookAnnotations" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
argocd.argoproj.io/hook: PreSync
argocd.argoproj.io/sync-wave: {{ .weight | quote }}
argocd.argoproj.io/hook-delete-policy: BeforeHookCreation,HookSucceeded
{{- end }}
