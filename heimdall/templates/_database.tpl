{{/*
The database Heimdall connects to: host, port, name and user, embedded or external, and the embedded database's volume claims on upgrade.
*/}}

{{/*
The database host Heimdall connects to.
Usage: {{ include "heimdall.database.host" . }}
*/}}
{{- define "heimdall.database.host" -}}
  {{- if .Values.postgresql.enabled }}
    {{- include "heimdall.names.postgresql" . }}
  {{- else if .Values.externalDatabase.host }}
    {{- .Values.externalDatabase.host }}
  {{- else }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" "externalDatabase.host is required when postgresql.enabled is false: set it to your PostgreSQL server's host name (or set postgresql.enabled=true for the embedded database)") }}
  {{- end }}
{{- end }}

{{/*
The database port Heimdall connects to.
Usage: {{ include "heimdall.database.port" . }}
*/}}
{{- define "heimdall.database.port" -}}
  {{- if .Values.postgresql.enabled }}5432{{ else }}{{ .Values.externalDatabase.port | int }}{{ end }}
{{- end }}

{{/*
The database name.
Usage: {{ include "heimdall.database.name" . }}
*/}}
{{- define "heimdall.database.name" -}}
  {{- if .Values.postgresql.enabled }}{{ .Values.postgresql.auth.database }}{{ else }}{{ .Values.externalDatabase.database }}{{ end }}
{{- end }}

{{/*
The database user name.
Usage: {{ include "heimdall.database.username" . }}
*/}}
{{- define "heimdall.database.username" -}}
  {{- if .Values.postgresql.enabled }}{{ .Values.postgresql.auth.username }}{{ else }}{{ .Values.externalDatabase.username }}{{ end }}
{{- end }}

{{/*
Records a problem when an upgrade would change the embedded database's volume
claim template (size, storage class, access modes, annotations, or a switch to
or from existingClaim), which Kubernetes never changes on an existing
StatefulSet: helm upgrade would fail half way with the API server's
"Forbidden: updates to statefulset spec". Reads the live StatefulSet with
lookup, so it acts on a real install or upgrade only (helm template sees no
cluster).
Usage: {{ include "heimdall.database.validateClaimTemplate" . }}
*/}}
{{- define "heimdall.database.validateClaimTemplate" -}}
  {{- $name := include "heimdall.names.postgresql" . }}
  {{- $live := lookup "apps/v1" "StatefulSet" (include "heimdall.names.namespace" .) $name }}
  {{- if and .Values.postgresql.enabled $live }}
    {{- $p := .Values.postgresql.persistence }}
    {{- $claims := $live.spec.volumeClaimTemplates | default list }}
    {{- $changes := list }}
    {{- if and $p.existingClaim $claims }}
      {{- $changes = append $changes (printf "existingClaim %q is new (the database was installed with a claim template)" $p.existingClaim) }}
    {{- else if and (not $p.existingClaim) (not $claims) }}
      {{- $changes = append $changes "existingClaim is gone (the database was installed on an existing claim)" }}
    {{- else if $claims }}
      {{- $claim := first $claims }}
      {{- $size := dig "spec" "resources" "requests" "storage" "" $claim }}
      {{- if ne (toString $size) (toString $p.size) }}
        {{- $changes = append $changes (printf "size %s, installed at %s" (toString $p.size) (toString $size)) }}
      {{- end }}
      {{- $class := $p.storageClass | default .Values.global.defaultStorageClass | default "" }}
      {{- $liveClass := dig "spec" "storageClassName" "" $claim }}
      {{- if ne $class $liveClass }}
        {{- $changes = append $changes (printf "storageClass (or global.defaultStorageClass) %q, installed with %q" $class $liveClass) }}
      {{- end }}
      {{- if ne (toJson $p.accessModes) (toJson (dig "spec" "accessModes" list $claim)) }}
        {{- $changes = append $changes (printf "accessModes %s, installed with %s" (toJson $p.accessModes) (toJson (dig "spec" "accessModes" list $claim))) }}
      {{- end }}
      {{- if ne (toJson ($p.annotations | default dict)) (toJson (dig "metadata" "annotations" dict $claim)) }}
        {{- $changes = append $changes (printf "annotations %s, installed with %s" (toJson ($p.annotations | default dict)) (toJson (dig "metadata" "annotations" dict $claim))) }}
      {{- end }}
    {{- end }}
    {{- if $changes }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "postgresql.persistence changes on the installed database (%s), and Kubernetes never changes a StatefulSet's volume claims: the upgrade would fail half way. Put back the installed values; or, to move on, run kubectl delete statefulset %s --namespace %s --cascade=orphan (its pod and volume stay) and upgrade again (to grow the volume, first expand its PersistentVolumeClaim data-%s-0 on a storage class that allows it)" (join "; " $changes) $name (include "heimdall.names.namespace" .) $name)) }}
    {{- end }}
  {{- end }}
{{- end }}
