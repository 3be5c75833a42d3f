{{- define "kam.fullname" -}}kam-{{ .Values.node.code }}{{- end -}}
{{- define "kam.labels" -}}
app.kubernetes.io/name: kam
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
kam.io/node: {{ .Values.node.code | quote }}
{{- end -}}
