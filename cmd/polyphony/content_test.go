package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writePack(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestContentImport(t *testing.T) {
	data := t.TempDir()
	bad := writePack(t, map[string]string{
		"a.md": "---\ntitle: A\nmodule: 7\n---\nText.\n",
		"b.md": "---\ntitle: B\nmodule: 1\nslug: same\n---\nSee [c](c.md).\n",
		"c.md": "---\ntitle: C\nmodule: 1\nslug: same\n---\nText.\n",
	})
	r := runIn(t, nil, "", "content", "import", "--data", data, bad)
	lines := 0
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if strings.Contains(l, ".md:") {
			lines++
		}
	}
	if r.code != 1 || lines != 3 || !strings.Contains(r.stderr, "nothing was imported") {
		t.Fatalf("a pack with three problems: exit %d, %d file:line lines\n%s", r.code, lines, r)
	}
	if !strings.Contains(r.stderr, filepath.Join(bad, "a.md")+":3:") {
		t.Errorf("the unknown module is not reported at a.md:3\n%s", r.stderr)
	}

	good := writePack(t, map[string]string{
		"first.md":  "---\ntitle: First page\nmodule: 0\norder: 1\n---\nOn to the [second](second.md).\n",
		"second.md": "---\ntitle: Second page\nmodule: 1\norder: 1\nrelease: after module 1\n---\nBack to the [first](first.md).\n",
	})
	r = mustRun(t, nil, "", "content", "import", "--data", data, good)
	if !strings.Contains(r.stdout, "2 new") {
		t.Errorf("first import: %s", r.stdout)
	}
	r = mustRun(t, nil, "", "content", "import", "--data", data, good)
	if !strings.Contains(r.stdout, "0 new, 0 changed, 2 unchanged") {
		t.Errorf("re-import: %s", r.stdout)
	}
	if r := runIn(t, nil, "", "content", "import", "--data", data); r.code != 2 {
		t.Errorf("no folder: exit %d, want 2", r.code)
	}
	if r := runIn(t, nil, "", "content", "import", "--data", data, filepath.Join(data, "nope")); r.code != 1 {
		t.Errorf("missing folder: exit %d, want 1", r.code)
	}
}
