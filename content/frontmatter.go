package content

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// frontMatterFirstLine is the file line of the first line inside the front matter, after
// the opening "---".
const frontMatterFirstLine = 2

// frontMatterKeys are the fields a page's front matter may have, in the order they are
// usually written.
var frontMatterKeys = []string{"title", "slug", "module", "order", "release", "readingMinutes"}

// splitFrontMatter separates the YAML between the opening and closing "---" lines from the
// Markdown after them. src has Unix line endings. bodyLine is the file line on which the
// body starts. reason says what is wrong when there is no well-formed front matter.
func splitFrontMatter(src []byte) (fm, body []byte, bodyLine int, reason string) {
	lines := bytes.SplitAfter(src, []byte("\n"))
	if !isFence(lines[0]) {
		return nil, nil, 0, "the file does not start with front matter: begin it with a line of three dashes (---), " +
			"then title: and the other fields, then another line of three dashes"
	}
	offset := len(lines[0])
	for i, line := range lines[1:] {
		if isFence(line) {
			return src[len(lines[0]):offset], src[offset+len(line):], i + 3, ""
		}
		offset += len(line)
	}
	return nil, nil, 0, "the front matter is not closed: add a line of three dashes (---) after its last field"
}

// isFence reports whether a line is "---", allowing spaces after it.
func isFence(line []byte) bool {
	return string(bytes.TrimRight(line, " \t\n")) == "---"
}

// frontMatter holds the fields as written, with the file line of each key.
type frontMatter struct {
	title, slug, release  string
	module, order, minute int
	lines                 map[string]int // keys written with a value of the right type
	written               map[string]int // every known key written
}

// has reports whether key was written with a value of the right type.
func (fm frontMatter) has(key string) bool { _, ok := fm.lines[key]; return ok }

// line is the file line of key, or 1 (the opening fence) when it was not written.
func (fm frontMatter) line(key string) int {
	if n, ok := fm.written[key]; ok {
		return n
	}
	return 1
}

// yamlLine finds the line in a YAML error message ("yaml: line 3: ...").
var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// yamlParserErrors are the YAML parser's messages, which give the line counted from 0; the
// scanner's count from 1.
var yamlParserErrors = []string{"did not find expected key", "did not find expected node content",
	"did not find expected ',' or ']'", "did not find expected ',' or '}'", "did not find expected '-' indicator",
	"did not find expected <document start>"}

// yamlProblem turns a YAML error into a problem at the file line it names, within the
// front matter's lines (an error at the end of the YAML names the line after it).
func yamlProblem(file string, err error, lines int) Problem {
	msg, line := err.Error(), 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		msg = msg[len(m[0]):]
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
			for _, p := range yamlParserErrors {
				if msg == p {
					line++
				}
			}
		}
	}
	line = max(1, min(line, lines))
	return Problem{File: file, Line: line + frontMatterFirstLine - 1, Reason: "the front matter is not valid YAML: " + msg}
}

// parseFrontMatter reads the YAML fields. Every key that is unknown, repeated or of the wrong
// type is a problem at its line; invalid YAML is one problem at the line the parser names,
// and ok false.
func parseFrontMatter(file string, src []byte) (fm frontMatter, problems []Problem, ok bool) {
	fm = frontMatter{lines: map[string]int{}, written: map[string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return fm, []Problem{yamlProblem(file, err, bytes.Count(src, []byte("\n")))}, false
	}
	if doc.Kind == 0 { // empty front matter
		return fm, nil, true
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fm, []Problem{{File: file, Line: root.Line + frontMatterFirstLine - 1,
			Reason: "the front matter must be lines of key: value, such as title: Dialogism"}}, false
	}
	problem := func(n *yaml.Node, format string, args ...any) {
		problems = append(problems, Problem{File: file, Line: n.Line + frontMatterFirstLine - 1, Reason: fmt.Sprintf(format, args...)})
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		switch {
		case k.Kind != yaml.ScalarNode || !slices.Contains(frontMatterKeys, key):
			problem(k, "unknown key %q: the front matter may hold %s", key, strings.Join(frontMatterKeys, ", "))
			continue
		case fm.written[key] != 0:
			problem(k, "%s is given twice (first on line %d)", key, fm.written[key])
			continue
		}
		fm.written[key] = k.Line + frontMatterFirstLine - 1
		var ok bool
		switch key {
		case "title":
			fm.title, ok = yamlText(v)
		case "slug":
			fm.slug, ok = yamlText(v)
		case "release":
			fm.release, ok = yamlText(v)
		case "module":
			fm.module, ok = yamlInt(v)
		case "order":
			fm.order, ok = yamlInt(v)
		case "readingMinutes":
			fm.minute, ok = yamlInt(v)
		}
		switch {
		case ok:
			fm.lines[key] = fm.written[key]
		case key == "title" || key == "slug" || key == "release":
			problem(v, "%s must be text, not %s", key, describeYAML(v))
		default:
			problem(v, "%s must be a whole number, not %s", key, describeYAML(v))
		}
	}
	return fm, problems, true
}

// yamlText reads a scalar as the text written; an empty value is empty text.
func yamlText(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	if n.ShortTag() == "!!null" {
		return "", true
	}
	return n.Value, true
}

// yamlInt reads a whole number.
func yamlInt(n *yaml.Node) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return 0, false
	}
	var v int
	if err := n.Decode(&v); err != nil {
		return 0, false
	}
	return v, true
}

// describeYAML names a value for a message.
func describeYAML(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
		return "nothing"
	case n.Kind == yaml.ScalarNode:
		return strconv.Quote(n.Value)
	case n.Kind == yaml.SequenceNode:
		return "a list"
	default:
		return "a group of fields"
	}
}
