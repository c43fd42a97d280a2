{{/*
The HTTPRoute's rule: its timeouts and filters, and the checks of what the
Gateway API CRD's own validation rules (CEL) would refuse, so that a value the
API server would turn away is refused at render time, naming the value.
*/}}

{{/*
Records a problem for httpRoute.timeouts.backendRequest longer than a non-zero
httpRoute.timeouts.request; for a filter whose settings are not the ones its
type names (type URLRewrite takes urlRewrite, and only that); for a filter type
given twice (only RequestMirror and ExtensionRef may repeat), and for
RequestRedirect beside URLRewrite.
Usage: {{ include "heimdall.httpRoute.validate" . }}
*/}}
{{- define "heimdall.httpRoute.validate" -}}
  {{- $timeouts := .Values.httpRoute.timeouts | default dict }}
  {{- if and $timeouts.request $timeouts.backendRequest }}
    {{- $request := include "heimdall.httpRoute.durationMillis" (dict "value" $timeouts.request "root" $) | int64 }}
    {{- $backend := include "heimdall.httpRoute.durationMillis" (dict "value" $timeouts.backendRequest "root" $) | int64 }}
    {{- if and (ne $request 0) (gt $backend $request) }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "httpRoute.timeouts.backendRequest (%s) is longer than httpRoute.timeouts.request (%s): the request timeout covers the backend's, and the API server refuses the HTTPRoute; make backendRequest no longer than request, or leave one out" $timeouts.backendRequest $timeouts.request)) }}
    {{- end }}
  {{- end }}
  {{- $fields := (include "heimdall.tables.json" $ | fromJson).httpRouteFilterFields }}
  {{- $types := list }}
  {{- range $i, $filter := .Values.httpRoute.filters }}
    {{- $field := get $fields $filter.type }}
    {{- $given := without (keys $filter | sortAlpha) "type" }}
    {{- if ne (join "," $given) $field }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "httpRoute.filters[%d] has type %s, so it takes %s and nothing else, but it gives [%s]: the API server refuses the HTTPRoute; put the filter's settings under %s" $i $filter.type $field (join ", " $given) $field)) }}
    {{- end }}
    {{- if and (has $filter.type $types) (ne $filter.type "RequestMirror") (ne $filter.type "ExtensionRef") }}
      {{- include "heimdall.validation.record" (dict "root" $ "message" (printf "httpRoute.filters[%d] repeats the filter type %s: the API server refuses an HTTPRoute rule with two; merge them into one" $i $filter.type)) }}
    {{- end }}
    {{- $types = append $types $filter.type }}
  {{- end }}
  {{- if and (has "RequestRedirect" $types) (has "URLRewrite" $types) }}
    {{- include "heimdall.validation.record" (dict "root" $ "message" "httpRoute.filters has both a RequestRedirect and a URLRewrite: the API server refuses a rule with both (a redirected request is never rewritten); keep one") }}
  {{- end }}
{{- end }}

{{/*
A Gateway API duration (GEP-2257: 1h30m, 300s, 500ms; the schema checks the
form) in milliseconds; pass (dict "value" "1h30m" "root" $).
Usage: {{ include "heimdall.httpRoute.durationMillis" (dict "value" "1h30m" "root" $) | int64 }}
*/}}
{{- define "heimdall.httpRoute.durationMillis" -}}
  {{- $units := (include "heimdall.tables.json" .root | fromJson).gatewayDurationUnits }}
  {{- $total := 0 }}
  {{- range regexFindAll "[0-9]+(ms|h|m|s)" .value -1 }}
    {{- $unit := regexReplaceAll "^[0-9]+" . "" }}
    {{- $total = add $total (mul (regexFind "^[0-9]+" . | int64) (get $units $unit)) }}
  {{- end }}
  {{- $total }}
{{- end }}
