// helm-render: renders a Helm chart the way `helm template` does, for tests on a
// machine without helm. Go text/template + sprig (Helm's own template engine), plus
// the Helm functions and objects margay's chart uses: include, tpl, required,
// toYaml, fromYaml, toJson (sprig), lookup (always empty, as in `helm template`),
// .Values (values.yaml, then each -f file, then each --set, deep-merged),
// .Release, .Chart, .Capabilities (KubeVersion, default v1.31.0, APIVersions.Has),
// .Template, the chart's kubeVersion constraint,
// .Files.Get. Like Helm, numbers in values files are float64 (JSON numbers), and
// a missing value renders as an empty string. values.schema.json is NOT checked
// here; the TypeScript wrapper checks it with ajv first, as helm does before
// rendering.
//
// With --values-only it prints the merged values as JSON instead.
// Output: one JSON object {"manifests":[{"source","content"}], "notes", "crds":[...]}.
// Errors: message on stderr, exit 1.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/semver"
	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type manifest struct {
	Source  string `json:"source"`
	Content string `json:"content"`
}

type output struct {
	Manifests []manifest `json:"manifests"`
	Notes     string     `json:"notes"`
	Crds      []manifest `json:"crds"`
}

type apiVersions []string

func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

type files struct{ root string }

func (f files) Get(name string) string {
	b, err := os.ReadFile(filepath.Join(f.root, filepath.FromSlash(name)))
	if err != nil {
		return ""
	}
	return string(b)
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "helm-render:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	var valueFiles, sets stringList
	release, namespace, kubeVersion := "margay", "kube-system", "v1.31.0"
	chartDir := ""
	valuesOnly := false
	for i := 0; i < len(args); i++ {
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", args[i])
			}
			i++
			return args[i], nil
		}
		var err error
		var v string
		switch args[i] {
		case "-f", "--values":
			v, err = next()
			valueFiles = append(valueFiles, v)
		case "--set":
			v, err = next()
			sets = append(sets, v)
		case "--name":
			release, err = next()
		case "--namespace":
			namespace, err = next()
		case "--kube-version":
			kubeVersion, err = next()
		case "--values-only":
			valuesOnly = true
		default:
			if strings.HasPrefix(args[i], "-") || chartDir != "" {
				return fmt.Errorf("unexpected argument %q", args[i])
			}
			chartDir = args[i]
		}
		if err != nil {
			return err
		}
	}
	if chartDir == "" {
		return errors.New("usage: helm-render CHART_DIR [-f values.yaml]... [--set a.b=c]... [--name R] [--namespace NS]")
	}

	chartMeta := map[string]interface{}{}
	if err := readYAML(filepath.Join(chartDir, "Chart.yaml"), &chartMeta); err != nil {
		return err
	}
	values := map[string]interface{}{}
	if err := readValues(filepath.Join(chartDir, "values.yaml"), values); err != nil {
		return err
	}
	for _, f := range valueFiles {
		if err := readValues(f, values); err != nil {
			return err
		}
	}
	for _, s := range sets {
		if err := applySet(values, s); err != nil {
			return err
		}
	}

	if valuesOnly {
		return json.NewEncoder(os.Stdout).Encode(values)
	}

	// Like helm: a chart's kubeVersion constraint is checked against the cluster's.
	if c, ok := chartMeta["kubeVersion"].(string); ok && c != "" {
		constraint, err := semver.NewConstraint(c)
		if err != nil {
			return fmt.Errorf("Chart.yaml kubeVersion %q: %v", c, err)
		}
		v, err := semver.NewVersion(kubeVersion)
		if err != nil {
			return fmt.Errorf("bad --kube-version %q: %v", kubeVersion, err)
		}
		if !constraint.Check(v) {
			return fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", c, kubeVersion)
		}
	}

	chartName, _ := chartMeta["name"].(string)
	chartObj := map[string]interface{}{}
	for k, v := range chartMeta {
		chartObj[strings.ToUpper(k[:1])+k[1:]] = v
	}
	kv := strings.TrimPrefix(kubeVersion, "v")
	parts := strings.SplitN(kv, ".", 3)
	if len(parts) < 2 {
		return fmt.Errorf("bad --kube-version %q", kubeVersion)
	}
	top := map[string]interface{}{
		"Values": values,
		"Chart":  chartObj,
		"Release": map[string]interface{}{
			"Name": release, "Namespace": namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{
				"Version": "v" + kv, "GitVersion": "v" + kv, "Major": parts[0], "Minor": parts[1],
			},
			"APIVersions": apiVersions{"v1", "apps/v1", "rbac.authorization.k8s.io/v1", "networking.k8s.io/v1",
				"apiextensions.k8s.io/v1", "scheduling.k8s.io/v1", "policy/v1"},
		},
		"Files": files{root: chartDir},
	}

	tplDir := filepath.Join(chartDir, "templates")
	var names []string
	err := filepath.Walk(tplDir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)

	root := template.New("chart")
	funcs := funcMap(root)
	root.Funcs(funcs).Option("missingkey=zero")
	for _, p := range names {
		rel, _ := filepath.Rel(chartDir, p)
		name := chartName + "/" + filepath.ToSlash(rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := root.New(name).Parse(string(b)); err != nil {
			return err
		}
	}

	out := output{Manifests: []manifest{}, Crds: []manifest{}}
	for _, p := range names {
		rel, _ := filepath.Rel(chartDir, p)
		name := chartName + "/" + filepath.ToSlash(rel)
		base := filepath.Base(p)
		if strings.HasPrefix(base, "_") {
			continue
		}
		data := copyMap(top)
		data["Template"] = map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if base == "NOTES.txt" {
			out.Notes = text
			continue
		}
		out.Manifests = append(out.Manifests, manifest{Source: name, Content: text})
	}

	crdDir := filepath.Join(chartDir, "crds")
	if entries, err := os.ReadDir(crdDir); err == nil {
		for _, e := range entries {
			if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml") || strings.HasSuffix(e.Name(), ".json")) {
				continue
			}
			b, err := os.ReadFile(filepath.Join(crdDir, e.Name()))
			if err != nil {
				return err
			}
			out.Crds = append(out.Crds, manifest{Source: chartName + "/crds/" + e.Name(), Content: string(b)})
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func copyMap(m map[string]interface{}) map[string]interface{} {
	c := make(map[string]interface{}, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	return c
}

// funcMap: sprig's text functions without env/expandenv (as Helm), plus Helm's own.
func funcMap(root *template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	includeDepth := 0
	f["include"] = func(name string, data interface{}) (string, error) {
		if includeDepth > 100 {
			return "", fmt.Errorf("include %q: too deeply nested", name)
		}
		includeDepth++
		defer func() { includeDepth-- }()
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	f["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	f["toYaml"] = toYAML
	f["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["lookup"] = func(apiVersion, kind, namespace, name string) map[string]interface{} {
		return map[string]interface{}{}
	}
	return f
}

// toYAML follows Helm (sigs.k8s.io/yaml): through JSON, so numbers print as JSON
// numbers (4294967295, not 4.294967295e+09), with the trailing newline trimmed.
func toYAML(v interface{}) string {
	j, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var node yaml.Node
	if err := yaml.Unmarshal(j, &node); err != nil {
		return ""
	}
	clearStyle(&node)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// clearStyle turns the JSON flow style into block style, keeping quotes where needed.
func clearStyle(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		if n.Style == yaml.DoubleQuotedStyle {
			n.Style = 0
		}
	} else {
		n.Style = 0
	}
	for _, c := range n.Content {
		clearStyle(c)
	}
}

func readYAML(path string, into interface{}) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// readValues merges a values file into dst; numbers become float64 as in Helm.
func readValues(path string, dst map[string]interface{}) error {
	m := map[string]interface{}{}
	if err := readYAML(path, &m); err != nil {
		return err
	}
	merge(dst, jsonNumbers(m).(map[string]interface{}))
	return nil
}

func jsonNumbers(v interface{}) interface{} {
	switch x := v.(type) {
	case map[string]interface{}:
		for k, e := range x {
			x[k] = jsonNumbers(e)
		}
		return x
	case []interface{}:
		for i, e := range x {
			x[i] = jsonNumbers(e)
		}
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	}
	return v
}

// merge: maps merge deeply; anything else (lists included) replaces, as in Helm.
func merge(dst, src map[string]interface{}) {
	for k, v := range src {
		sm, sok := v.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			merge(dm, sm)
		} else if v == nil {
			delete(dst, k)
		} else {
			dst[k] = v
		}
	}
}

// applySet handles --set a.b.c=v and a.list[0].x=v; v is typed like Helm's strvals
// (true/false/null, int64), comma-separated assignments allowed.
func applySet(values map[string]interface{}, s string) error {
	for _, assignment := range strings.Split(s, ",") {
		eq := strings.Index(assignment, "=")
		if eq < 1 {
			return fmt.Errorf("--set %q: want key=value", assignment)
		}
		key, raw := assignment[:eq], assignment[eq+1:]
		var val interface{} = raw
		switch {
		case raw == "true":
			val = true
		case raw == "false":
			val = false
		case raw == "null":
			val = nil
		default:
			if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
				val = n
			}
		}
		if err := setPath(values, strings.Split(key, "."), val); err != nil {
			return fmt.Errorf("--set %q: %v", assignment, err)
		}
	}
	return nil
}

func setPath(m map[string]interface{}, path []string, val interface{}) error {
	head := path[0]
	idx := -1
	if open := strings.Index(head, "["); open > 0 && strings.HasSuffix(head, "]") {
		n, err := strconv.Atoi(head[open+1 : len(head)-1])
		if err != nil || n < 0 {
			return fmt.Errorf("bad index in %q", head)
		}
		idx, head = n, head[:open]
	}
	if idx < 0 {
		if len(path) == 1 {
			m[head] = val
			return nil
		}
		child, ok := m[head].(map[string]interface{})
		if !ok {
			child = map[string]interface{}{}
			m[head] = child
		}
		return setPath(child, path[1:], val)
	}
	list, _ := m[head].([]interface{})
	for len(list) <= idx {
		list = append(list, nil)
	}
	m[head] = list
	if len(path) == 1 {
		list[idx] = val
		return nil
	}
	child, ok := list[idx].(map[string]interface{})
	if !ok {
		child = map[string]interface{}{}
		list[idx] = child
	}
	return setPath(child, path[1:], val)
}
