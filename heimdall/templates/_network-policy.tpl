{{/*
The NetworkPolicies' inputs: the DNS ports Heimdall reaches, and the check that it can reach an external database.
*/}}

{{/*
The ports of Heimdall's DNS egress, as a JSON list: networkPolicy.dnsPorts, or
53, and 5353 too on OpenShift (a cluster that serves security.openshift.io/v1),
whose DNS pods listen on 5353 behind the dns-default Service's 53: a
NetworkPolicy sees the port of the pod, not the Service's.
Usage: {{ include "heimdall.networkPolicy.dnsPorts" . | fromJsonArray }}
*/}}
{{- define "heimdall.networkPolicy.dnsPorts" -}}
  {{- $ports := .Values.networkPolicy.dnsPorts | default list }}
  {{- if not $ports }}
    {{- $ports = list 53 }}
    {{- if include "heimdall.platform.openshift" . }}
      {{- $ports = append $ports 5353 }}
    {{- end }}
  {{- end }}
  {{- toJson $ports }}
{{- end }}

{{/*
Records a problem when the NetworkPolicy is on with an external database but no CIDR lets Heimdall reach it.
Usage: {{ include "heimdall.networkPolicy.validate" . }}
*/}}
{{- define "heimdall.networkPolicy.validate" -}}
  {{- if and .Values.networkPolicy.enabled (not .Values.postgresql.enabled) (not .Values.networkPolicy.externalDatabaseCidrs) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" "networkPolicy.enabled with an external database needs networkPolicy.externalDatabaseCidrs (e.g. [\"10.0.5.0/24\"]): without it Heimdall could not reach its database") }}
  {{- end }}
{{- end }}
