{{/* The release's full name, at most 63 characters. */}}
{{- define "margay.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "margay.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{- define "margay.labels" -}}
{{ include "margay.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
{{- end -}}

{{- define "margay.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "margay.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "margay.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The Secrets named by bgp.peers[].password.existingSecret, sorted and unique. */}}
{{- define "margay.peerSecrets" -}}
{{- $names := list -}}
{{- range .Values.bgp.peers -}}
{{- if .password -}}
{{- $names = append $names .password.existingSecret.name -}}
{{- end -}}
{{- end -}}
{{- $names | uniq | sortAlpha | join "," -}}
{{- end -}}

{{/*
Per-pool defaults (README, "Values"): ipipMode Never; vxlanMode CrossSubnet unless the
pool turns IPIP on (the two cannot be combined), then Never; natOutgoing true, and an
explicit false stays false (hasKey: `default` would treat false as empty).
*/}}
{{- define "margay.poolIpipMode" -}}
{{- default "Never" .ipipMode -}}
{{- end -}}
{{- define "margay.poolVxlanMode" -}}
{{- if hasKey . "vxlanMode" -}}
{{- default "Never" .vxlanMode -}}
{{- else if ne (default "Never" .ipipMode) "Never" -}}
Never
{{- else -}}
CrossSubnet
{{- end -}}
{{- end -}}
{{- define "margay.poolNatOutgoing" -}}
{{- if hasKey . "natOutgoing" -}}
{{- .natOutgoing -}}
{{- else -}}
true
{{- end -}}
{{- end -}}

{{/*
Checks across fields that values.schema.json cannot express clearly; a failed check
stops the install with a message naming the value.
*/}}
{{- define "margay.checkValues" -}}
{{- range $i, $p := .Values.ipPools -}}
{{- $v6 := contains ":" $p.cidr -}}
{{- $ipip := include "margay.poolIpipMode" $p -}}
{{- $vxlan := include "margay.poolVxlanMode" $p -}}
{{- if and (ne $ipip "Never") (ne $vxlan "Never") -}}
{{- fail (printf "ipPools[%d] (%s): ipipMode and vxlanMode cannot both be enabled" $i $p.name) -}}
{{- end -}}
{{- if and $v6 (ne $ipip "Never") -}}
{{- fail (printf "ipPools[%d] (%s): ipipMode is IPv4-only; use vxlanMode for an IPv6 pool" $i $p.name) -}}
{{- end -}}
{{- $len := int64 (last (splitList "/" $p.cidr)) -}}
{{- /* the CRD counts an absent blockSize as its default (26, IPv6 122): so does this check */ -}}
{{- $bs := int64 26 -}}
{{- $which := " (the default)" -}}
{{- if $v6 -}}{{- $bs = int64 122 -}}{{- end -}}
{{- if hasKey $p "blockSize" -}}
{{- $bs = int64 $p.blockSize -}}
{{- $which = "" -}}
{{- if and $v6 (or (lt $bs 116) (gt $bs 128)) -}}
{{- fail (printf "ipPools[%d] (%s): blockSize %d is out of range for IPv6; use 116-128" $i $p.name $bs) -}}
{{- end -}}
{{- if and (not $v6) (or (lt $bs 20) (gt $bs 32)) -}}
{{- fail (printf "ipPools[%d] (%s): blockSize %d is out of range for IPv4; use 20-32" $i $p.name $bs) -}}
{{- end -}}
{{- end -}}
{{- if lt $bs $len -}}
{{- fail (printf "ipPools[%d] (%s): blockSize %d%s is shorter than the pool's prefix /%d" $i $p.name $bs $which $len) -}}
{{- end -}}
{{- end -}}
{{- $names := list -}}
{{- range .Values.ipPools -}}
{{- if has .name $names -}}
{{- fail (printf "ipPools: the name %s is used twice" .name) -}}
{{- end -}}
{{- $names = append $names .name -}}
{{- end -}}
{{- if and (.Values.metrics | default dict).annotations (eq (include "margay.metricsAddress" .) "127.0.0.1") -}}
{{- fail "metrics.annotations: Prometheus cannot scrape an agent bound to 127.0.0.1; set metrics.address to 0.0.0.0 or ::" -}}
{{- end -}}
{{- end -}}

{{/* the address the agent's health/metrics port binds (metrics.address, default 127.0.0.1) */}}
{{- define "margay.metricsAddress" -}}
{{- (.Values.metrics | default dict).address | default "127.0.0.1" -}}
{{- end -}}

{{/* where the probes ask: the loopback address the bound port answers on (::1 for "::", else 127.0.0.1) */}}
{{- define "margay.probeHost" -}}
{{- if eq (include "margay.metricsAddress" .) "::" }}::1{{ else }}127.0.0.1{{ end -}}
{{- end -}}

{{/* "true" when the agents run their own BGP speaker (bgp.enabled unset or true), else empty */}}
{{- define "margay.bgpOn" -}}
{{- if not (eq .Values.bgp.enabled false) }}true{{ end -}}
{{- end -}}

{{/*
The plugins chained after margay-cni in the conflist, space-separated: portmap and
bandwidth unless cni.portmap.enabled / cni.bandwidth.enabled is false.
*/}}
{{- define "margay.chainedPlugins" -}}
{{- $on := list -}}
{{- range $p := list "portmap" "bandwidth" -}}
{{- $v := get $.Values.cni $p | default dict -}}
{{- if or (not (hasKey $v "enabled")) $v.enabled -}}
{{- $on = append $on $p -}}
{{- end -}}
{{- end -}}
{{- $on | join " " -}}
{{- end -}}
