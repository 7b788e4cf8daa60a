package content

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"polyphony/content/curriculum"
)

// goodPack is a small pack in the curriculum's format.
func goodPack() fstest.MapFS {
	return fstest.MapFS{
		"programme-overview.md": {Data: []byte(`---
title: Programme overview
module: 0
order: 1
---
Welcome. Start with [dialogism](dialogism-and-polyphony.md#bakhtin) and the
[uncertainty page](./uncertainty.md).
`)},
		"dialogism.md": {Data: []byte("---\r\ntitle: Dialogism and polyphony\r\nslug: dialogism-and-polyphony\r\nmodule: 2\r\norder: 3\r\n" +
			"release: after module 1\r\nreadingMinutes: 8\r\n---\r\n## Bakhtin\r\n\r\nMany voices.\r\n")},
		"uncertainty.md": {Data: []byte(`---
title: "Tolerance of uncertainty"
module: 1
order: 2
release: 2025-09-01
---
` + strings.Repeat("word ", 450) + "\n")},
		"notes.txt":         {Data: []byte("not a page")},
		"drafts/ignored.md": {Data: []byte("no front matter at all")},
	}
}

func TestLoadPack(t *testing.T) {
	pack, err := LoadPack(goodPack())
	if err != nil {
		t.Fatal(err)
	}
	var slugs []string
	for _, p := range pack.Pages {
		slugs = append(slugs, p.Slug)
	}
	if got, want := strings.Join(slugs, " "), "programme-overview uncertainty dialogism-and-polyphony"; got != want {
		t.Fatalf("pages in order: got %s, want %s", got, want)
	}
	d := pack.Pages[2]
	if d.File != "dialogism.md" || d.Title != "Dialogism and polyphony" || d.Module != 2 || d.Order != 3 ||
		d.Release != (Release{AfterModule: 1}) || d.ReadingMinutes != 8 || d.Body != "## Bakhtin\n\nMany voices.\n" ||
		!strings.HasPrefix(string(d.Source), "---\r\ntitle:") {
		t.Errorf("dialogism page: %+v", d)
	}
	u := pack.Pages[1]
	if u.Title != "Tolerance of uncertainty" || u.ReadingMinutes != 3 || u.Release.String() != "2025-09-01" {
		t.Errorf("uncertainty page: title %q, %d minutes (450 words), release %s", u.Title, u.ReadingMinutes, u.Release)
	}
	slugSet := map[string]bool{}
	for _, s := range slugs {
		slugSet[s] = true
	}
	out := mustRender(t, NewRenderer(), pack.Pages[0].Body, CurriculumLinks(func(s string) bool { return slugSet[s] }))
	for _, want := range []string{`href="/curriculum/dialogism-and-polyphony#bakhtin"`, `href="/curriculum/uncertainty"`} {
		if !strings.Contains(string(out.HTML), want) {
			t.Errorf("overview links: got %s, want %s", out.HTML, want)
		}
	}
}

func TestLoadPackListsEveryProblem(t *testing.T) {
	fsys := goodPack()
	fsys["dialogism.md"] = &fstest.MapFile{Data: []byte("---\ntitle: Dialogism\nslug: dialogism-and-polyphony\nmodule: 7\n---\nText.\n")}
	fsys["uncertainty.md"] = &fstest.MapFile{Data: []byte("---\ntitle: Uncertainty\nrelease: next week\n---\nSee [the overview](programme-overview.md).\n")}
	fsys["programme-overview.md"] = &fstest.MapFile{Data: []byte("---\ntitle: Overview\n---\n\nRead [dialogism](dialogism-and-polyphony.md),\nthen [risk](risk.md).\n")}
	_, err := LoadPack(fsys)
	var pe *PackError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *PackError", err)
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		"dialogism.md:4: module must be 0 for the whole programme or 1 to 4",
		"programme-overview.md:6: broken link to risk.md",
		`uncertainty.md:3: release "next week" is not a release rule`,
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(lines), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("problem %d:\ngot  %s\nwant %s...", i+1, lines[i], want[i])
		}
	}
}

func TestLoadPackProblems(t *testing.T) {
	page := func(fm, body string) string { return "---\n" + fm + "---\n" + body }
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // each problem's beginning
	}{
		{"unclosed front matter", map[string]string{"a.md": "---\ntitle: A\n\nText."},
			[]string{"a.md:1: the front matter is not closed"}},
		{"no front matter", map[string]string{"a.md": "# A\n\nText."},
			[]string{"a.md:1: the file does not start with front matter"}},
		{"invalid YAML", map[string]string{"a.md": page("title: A\nmodule: [1\n", "")},
			[]string{"a.md:3: the front matter is not valid YAML"}},
		{"YAML broken on the first line", map[string]string{"a.md": page("title: [A\n", "")},
			[]string{"a.md:2: the front matter is not valid YAML"}},
		{"YAML with no key", map[string]string{"a.md": page("title: A\n: x\n", "")},
			[]string{"a.md:3: the front matter is not valid YAML: did not find expected key"}},
		{"YAML with a tab", map[string]string{"a.md": page("title: A\n\tmodule: 2\n", "")},
			[]string{"a.md:3: the front matter is not valid YAML"}},
		{"YAML indented wrongly", map[string]string{"a.md": page("title: A\nmodule: 1\n  bad: x\n", "")},
			[]string{"a.md:4: the front matter is not valid YAML"}},
		{"YAML not a mapping", map[string]string{"a.md": page("just a title\n", "")},
			[]string{"a.md:2: the front matter must be lines of key: value"}},
		{"unknown key", map[string]string{"a.md": page("title: A\nauthor: Bakhtin\n", "")},
			[]string{`a.md:3: unknown key "author"`}},
		{"repeated key", map[string]string{"a.md": page("title: A\ntitle: B\n", "")},
			[]string{"a.md:3: title is given twice (first on line 2)"}},
		{"wrong type", map[string]string{"a.md": page("title: A\norder: first\n", "")},
			[]string{`a.md:3: order must be a whole number, not "first"`}},
		{"title as a list", map[string]string{"a.md": page("title:\n  - A\n", "")},
			[]string{"a.md:3: title must be text"}},
		{"missing title", map[string]string{"a.md": page("module: 1\n", "")},
			[]string{"a.md:1: title is missing"}},
		{"empty front matter", map[string]string{"a.md": page("", "Text")},
			[]string{"a.md:1: title is missing"}},
		{"title too long", map[string]string{"a.md": page("title: "+strings.Repeat("x", 121)+"\n", "")},
			[]string{"a.md:2: title is 121 characters long; at most 120"}},
		{"unknown module", map[string]string{"a.md": page("title: A\nmodule: -1\n", "")},
			[]string{"a.md:3: module must be 0"}},
		{"bad release", map[string]string{"a.md": page("title: A\nrelease: after module 5\n", "")},
			[]string{`a.md:3: release "after module 5"`}},
		{"impossible date", map[string]string{"a.md": page("title: A\nrelease: 2025-02-30\n", "")},
			[]string{`a.md:3: release "2025-02-30" is not a date`}},
		{"bad reading time", map[string]string{"a.md": page("title: A\nreadingMinutes: 0\n", "")},
			[]string{"a.md:3: readingMinutes must be 1 or more"}},
		{"bad slug", map[string]string{"a.md": page("title: A\nslug: Open Dialogue\n", "")},
			[]string{`a.md:3: slug "Open Dialogue" may hold only`}},
		{"slug as a list", map[string]string{"Bad Name.md": page("title: A\nslug: [a]\n", "")},
			[]string{"Bad Name.md:3: slug must be text, not a list"}},
		{"bad file name", map[string]string{"Open_Dialogue.md": page("title: A\n", "")},
			[]string{`Open_Dialogue.md:1: slug "Open_Dialogue" may hold only`}},
		{"duplicate slug", map[string]string{"a.md": page("title: A\nslug: same\n", ""), "b.md": page("title: B\nslug: same\n", "")},
			[]string{`b.md:3: slug "same" is also the slug of a.md`}},
		{"duplicate of a file name", map[string]string{"same.md": page("title: A\n", ""), "b.md": page("title: B\nslug: same\n", "")},
			[]string{`same.md:1: slug "same" is also the slug of b.md`}},
		{"broken link", map[string]string{"a.md": page("title: A\n", "Intro.\n\nSee *[the missing page](missing.md#part)* now.\n")},
			[]string{"a.md:6: broken link to missing.md#part"}},
		{"link into a folder", map[string]string{"a.md": page("title: A\n", "[b](../b.md)\n"), "b.md": page("title: B\n", "")},
			[]string{"a.md:4: broken link to ../b.md"}},
		{"link by file name to a renamed page", map[string]string{"a.md": page("title: A\n", "[b](b.md)\n"), "b.md": page("title: B\nslug: bee\n", "")},
			[]string{`a.md:4: link to b.md: the page in that file has the slug "bee"`}},
		{"broken anchor", map[string]string{"a.md": page("title: A\n", "[b](b.md#nowhere)\n"), "b.md": page("title: B\n", "## Somewhere\n")},
			[]string{`a.md:4: broken link to b.md#nowhere: b.md has no heading with the anchor "nowhere"`}},
		{"not UTF-8", map[string]string{"a.md": page("title: A\n", "fine\n\xff\n")},
			[]string{"a.md:5: the file is not UTF-8 text"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, src := range tc.files {
				fsys[name] = &fstest.MapFile{Data: []byte(src)}
			}
			_, err := LoadPack(fsys)
			var pe *PackError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *PackError", err)
			}
			if len(pe.Problems) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(pe.Problems), len(tc.want), err)
			}
			for i, w := range tc.want {
				if got := pe.Problems[i].String(); !strings.HasPrefix(got, w) {
					t.Errorf("got  %s\nwant %s...", got, w)
				}
			}
		})
	}
}

func TestLoadPackEmpty(t *testing.T) {
	if _, err := LoadPack(fstest.MapFS{"readme.txt": {Data: []byte("x")}}); err == nil {
		t.Error("a pack with no pages loaded")
	}
}

// The built-in curriculum must load with no problems at all.
func TestLoadCurriculum(t *testing.T) {
	pack, err := LoadPack(curriculum.FS)
	if err != nil {
		t.Fatalf("the built-in curriculum has problems:\n%v", err)
	}
	if len(pack.Pages) == 0 {
		t.Fatal("the built-in curriculum has no pages")
	}
	slugs := map[string]bool{}
	for _, p := range pack.Pages {
		slugs[p.Slug] = true
	}
	r := NewRenderer()
	for _, p := range pack.Pages {
		out := mustRender(t, r, p.Body, CurriculumLinks(func(s string) bool { return slugs[s] }))
		if bad := unsafeHTML(string(out.HTML)); bad != "" {
			t.Errorf("%s renders with %s", p.File, bad)
		}
		if strings.Contains(string(out.HTML), `.md"`) || strings.Contains(string(out.HTML), `.md#`) {
			t.Errorf("%s keeps a link to a .md file after rewriting", p.File)
		}
		if p.Release.AfterModule == 0 && !p.Release.From.IsZero() && p.Release.From.Before(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: release date %s", p.File, p.Release)
		}
	}
}
