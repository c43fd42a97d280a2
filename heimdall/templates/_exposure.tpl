{{/*
Exposure: the public URL derived from the Ingress, HTTPRoute or Route, and the checks of how Heimdall is exposed (one way in, the Service's ports).
*/}}

{{/*
The public URL of Heimdall derived from the Ingress or HTTPRoute host ("" when neither is on).
Usage: {{ include "heimdall.exposure.externalUrl" . }}
*/}}
{{- define "heimdall.exposure.externalUrl" -}}
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
Records a problem when more than one of ingress, httpRoute and route is enabled (Heimdall has one EXTERNAL_URL), when the one enabled lacks what it attaches to, when the Service has affinity settings Kubernetes would discard, source ranges that only a LoadBalancer Service applies, or extra ports that repeat a name or a port.
Usage: {{ include "heimdall.exposure.validate" . }}
*/}}
{{- define "heimdall.exposure.validate" -}}
  {{- $on := list }}
  {{- range $name := list "ingress" "httpRoute" "route" }}
    {{- if (get $.Values $name).enabled }}{{ $on = append $on (printf "%s.enabled" $name) }}{{ end }}
  {{- end }}
  {{- if eq (len $on) 2 }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "%s and %s are both true: expose Heimdall through one of ingress, httpRoute and route" (index $on 0) (index $on 1))) }}
  {{- else if gt (len $on) 2 }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" "ingress.enabled, httpRoute.enabled and route.enabled are all true: expose Heimdall through one of them") }}
  {{- end }}
  {{- $names := list "http" }}
  {{- $ports := list (printf "%d/TCP" (.Values.service.port | int)) }}
  {{- range $i, $p := .Values.service.extraPorts }}
    {{- $port := printf "%d/%s" ($p.port | int) ($p.protocol | default "TCP") }}
    {{- if or (has $p.name $names) (has $port $ports) }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "service.extraPorts[%d] (name %s, port %s) repeats the name or the port of another of the Service's ports (the chart's own: http, %d/TCP): the API server refuses a duplicate; give it a name and a port of its own" $i $p.name $port ($.Values.service.port | int))) }}
    {{- end }}
    {{- $names = append $names $p.name }}
    {{- $ports = append $ports $port }}
  {{- end }}
  {{- if and .Values.httpRoute.enabled (not .Values.httpRoute.parentRefs) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" "httpRoute.parentRefs is empty: name the Gateway to attach to, e.g. --set httpRoute.parentRefs[0].name=my-gateway") }}
  {{- end }}
  {{- if and .Values.ingress.enabled (not .Values.ingress.hosts) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" "ingress.hosts is empty: an Ingress needs a rule (the API server refuses one with neither rules nor a default backend); list a host, e.g. --set ingress.hosts[0].host=heimdall.example.com --set ingress.hosts[0].paths[0].path=/ --set ingress.hosts[0].paths[0].pathType=Prefix") }}
  {{- end }}
  {{- if and .Values.route.enabled (not .Values.route.host) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" "route.host is empty: set the host name the Route serves, e.g. --set route.host=heimdall.apps.example.com") }}
  {{- end }}
  {{- if and .Values.service.sessionAffinityConfig (ne .Values.service.sessionAffinity "ClientIP") }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "service.sessionAffinityConfig is set but service.sessionAffinity is %q, not ClientIP: Kubernetes discards the config without a word. Set service.sessionAffinity=ClientIP, or drop sessionAffinityConfig" .Values.service.sessionAffinity)) }}
  {{- end }}
  {{- if and .Values.service.loadBalancerSourceRanges (ne .Values.service.type "LoadBalancer") }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "service.loadBalancerSourceRanges is set but service.type is %q, not LoadBalancer: only a load balancer applies source ranges, so they would restrict nothing. Set service.type=LoadBalancer, or restrict who reaches Heimdall with networkPolicy.enabled and networkPolicy.ingressFrom, and drop loadBalancerSourceRanges" .Values.service.type)) }}
  {{- end }}
{{- end }}
