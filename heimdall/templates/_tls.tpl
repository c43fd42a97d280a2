{{/*
TLS files Heimdall reads (database and LDAP CAs, client certificates), with their volumes and mounts.
*/}}

{{/*
The TLS files Heimdall reads, as JSON: a list of {variable, volume, path,
kind, name, key} for DATABASE_SSL_CA/_CERT/_KEY (externalDatabase.tls) and
LDAP_SSL_CA (ldapTls), each mounted read-only under /etc/heimdall/. Records a
problem for a combination that cannot work, naming the values.
Usage: {{ include "heimdall.tls.filesJson" . }}
*/}}
{{- define "heimdall.tls.filesJson" -}}
  {{- $files := list }}
  {{- $db := .Values.externalDatabase.tls }}
  {{- if or $db.existingSecret $db.caConfigMap }}
    {{- if .Values.postgresql.enabled }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" "externalDatabase.tls is set, but postgresql.enabled is true: the embedded database is reached without TLS. Set postgresql.enabled=false to use an external database") }}
    {{- else if not .Values.externalDatabase.ssl }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" "externalDatabase.tls is set, but externalDatabase.ssl is false: Heimdall would not use TLS. Set externalDatabase.ssl=true") }}
    {{- end }}
    {{- if and $db.existingSecret $db.caKey $db.caConfigMap }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" "externalDatabase.tls has a CA twice: in existingSecret (caKey) and in caConfigMap. Set caKey to \"\" or drop caConfigMap") }}
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
    {{- include "heimdall.validation.record" (dict "root" $ "message" "ldapTls has both caConfigMap and caSecret: give the LDAP CA once") }}
  {{- end }}
  {{- with $ldap.caConfigMap }}
    {{- $files = append $files (dict "variable" "LDAP_SSL_CA" "volume" "ldap-ca" "path" (printf "/etc/heimdall/ldap-ca/%s" $ldap.caKey) "kind" "ConfigMap" "name" . "key" $ldap.caKey) }}
  {{- end }}
  {{- with $ldap.caSecret }}
    {{- $files = append $files (dict "variable" "LDAP_SSL_CA" "volume" "ldap-ca" "path" (printf "/etc/heimdall/ldap-ca/%s" $ldap.caKey) "kind" "Secret" "name" . "key" $ldap.caKey) }}
  {{- end }}
  {{- toJson $files }}
{{- end }}

{{/*
The volumes holding the TLS files (one per source), for the Heimdall pod's volumes list.
Usage: {{ include "heimdall.tls.volumes" . }}
*/}}
{{- define "heimdall.tls.volumes" -}}
  {{- $byVolume := dict }}
  {{- range include "heimdall.tls.filesJson" . | fromJsonArray }}
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

{{/*
Where the TLS volumes are mounted: a folder each, not subPath, so a renewed certificate reaches the pod.
Usage: {{ include "heimdall.tls.volumeMounts" . }}
*/}}
{{- define "heimdall.tls.volumeMounts" -}}
  {{- $volumes := list }}
  {{- range include "heimdall.tls.filesJson" . | fromJsonArray }}{{ $volumes = append $volumes .volume }}{{ end }}
  {{- range $volumes | uniq | sortAlpha }}
- name: {{ . }}
  mountPath: /etc/heimdall/{{ . }}
  readOnly: true
  {{- end }}
{{- end }}
