package proctest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"polyphony/internal/proctest"
)

func TestModuleRoot(t *testing.T) {
	root, err := proctest.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "module polyphony") {
		t.Fatalf("%s/go.mod is not the polyphony module", root)
	}
	sub := filepath.Join(root, "internal", "proctest")
	if got, err := proctest.ModuleRoot(sub); err != nil || got != root {
		t.Fatalf("ModuleRoot(%q) = %q, %v; want %q", sub, got, err, root)
	}
}
