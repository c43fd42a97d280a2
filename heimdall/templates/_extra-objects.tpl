{{/*
Extra objects (values' extraObjects): each entry's text after tpl, and the check that each is one named object.
*/}}

{{/*
An extraObjects entry (a map, or a string) as YAML text after tpl; pass (dict "entry" $entry "root" $). Read by extra-objects.yaml and checked by heimdall.extraObjects.validate.
Usage: {{ include "heimdall.extraObjects.text" (dict "entry" . "root" $) }}
*/}}
{{- define "heimdall.extraObjects.text" -}}
  {{- tpl (ternary .entry (toYaml .entry) (kindIs "string" .entry)) .root }}
{{- end }}

{{/*
Records a problem for each extraObjects entry that is not, after tpl, one object with apiVersion, kind and metadata.name.
Usage: {{ include "heimdall.extraObjects.validate" . }}
*/}}
{{- define "heimdall.extraObjects.validate" -}}
  {{- range $i, $entry := .Values.extraObjects }}
    {{- $object := include "heimdall.extraObjects.text" (dict "entry" $entry "root" $) | fromYaml }}
    {{- $metadata := $object.metadata | default dict }}
    {{- if hasKey $object "Error" }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "extraObjects[%d] is not one YAML object after tpl: %s" $i $object.Error)) }}
    {{- else if not $object.apiVersion }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "extraObjects[%d] has no apiVersion: each entry is one Kubernetes object with apiVersion, kind and metadata.name" $i)) }}
    {{- else if not $object.kind }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "extraObjects[%d] has no kind: each entry is one Kubernetes object with apiVersion, kind and metadata.name" $i)) }}
    {{- else if not (and (kindIs "map" $metadata) $metadata.name) }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "extraObjects[%d] (%s) has no metadata.name: name the object" $i $object.kind)) }}
    {{- end }}
  {{- end }}
{{- end }}
