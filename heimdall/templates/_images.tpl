{{/* Images: references built from {registry, repository, tag, digest}, and the pull Secrets of every pod. */}}

{{/*
An image reference from {registry, repository, tag, digest}; pass (dict
"image" $img "path" "postgresql.image" "default" $tag "root" $), where path
names the value in messages. global.imageRegistry, when set,
replaces the image's own registry, so one value moves every image to a mirror.
Usage: {{ include "heimdall.images.ref" (dict "image" .Values.image "path" "image" "default" .Chart.AppVersion "root" .) }}
*/}}
{{- define "heimdall.images.ref" -}}
  {{- $img := .image }}
  {{- $registry := .root.Values.global.imageRegistry | default $img.registry }}
  {{- $repo := $img.repository }}
  {{- if $registry }}{{ $repo = printf "%s/%s" $registry $img.repository }}{{ end }}
  {{- if $img.digest }}
    {{- printf "%s@%s" $repo $img.digest }}
  {{- else }}
    {{- $tag := include "heimdall.platform.text" (default .default $img.tag) }}
    {{- if not $tag }}
      {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "%s.tag is empty and %s.digest unset, so %s has no version: set a release tag (or a sha256 digest)" .path .path $img.repository)) }}
    {{- end }}
    {{- if eq $tag "latest" }}
      {{- include "heimdall.validation.record" (dict "root" .root "message" (printf "image tag \"latest\" for %s is not allowed: pin a release (the default is the chart's appVersion) or a digest" $img.repository)) }}
    {{- end }}
    {{- printf "%s:%s" $repo $tag }}
  {{- end }}
{{- end }}

{{/*
The Heimdall image reference (the app, its CA init container, the secrets generator and the test pod).
Usage: {{ include "heimdall.images.heimdall" . }}
*/}}
{{- define "heimdall.images.heimdall" -}}
  {{- include "heimdall.images.ref" (dict "image" .Values.image "path" "image" "default" .Chart.AppVersion "root" .) }}
{{- end }}

{{/*
The pull Secret names of every pod: global.imagePullSecrets, then
imagePullSecrets, each a name or {name: ...}, without repeats.
Usage: {{ include "heimdall.images.pullSecretNames" . }}
*/}}
{{- define "heimdall.images.pullSecretNames" -}}
  {{- $names := list }}
  {{- /* A dict ranges in key order: global.imagePullSecrets comes first. */}}
  {{- range $value, $entries := dict "global.imagePullSecrets" .Values.global.imagePullSecrets "imagePullSecrets" .Values.imagePullSecrets }}
    {{- range $i, $entry := $entries | default list }}
      {{- $name := $entry }}
      {{- if kindIs "map" $entry }}{{ $name = $entry.name }}{{ end }}
      {{- if not $name }}
        {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "%s[%d] (%s) has no name: give a name (\"regcred\") or {name: regcred}" $value $i (toJson $entry))) }}
      {{- else }}
        {{- $names = append $names (toString $name) }}
      {{- end }}
    {{- end }}
  {{- end }}
  {{- $names | uniq | join "," }}
{{- end }}

{{/*
The imagePullSecrets field of a pod spec, or nothing; include with nindent at the pod spec's indentation.
Usage: {{ include "heimdall.images.pullSecrets" . }}
*/}}
{{- define "heimdall.images.pullSecrets" -}}
  {{- $names := include "heimdall.images.pullSecretNames" . }}
  {{- if $names }}
imagePullSecrets:
    {{- range splitList "," $names }}
  - name: {{ . }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
The PostgreSQL image reference (also used by the wait-for-database init container).
Usage: {{ include "heimdall.images.postgresql" . }}
*/}}
{{- define "heimdall.images.postgresql" -}}
  {{- include "heimdall.images.ref" (dict "image" .Values.postgresql.image "path" "postgresql.image" "default" "" "root" .) }}
{{- end }}
