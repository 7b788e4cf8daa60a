package database

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// driverPackage is the driver's engine API: its client, collections, options and errors.
// Its document format, bson, is not the engine and may be used anywhere.
const driverPackage = "go.mongodb.org/mongo-driver/v2/mongo"

// mayUseDriver are the packages that know the engine: this one, and the tests' server.
var mayUseDriver = []string{"polyphony/internal/database", "polyphony/internal/dbtest"}

// Only this package knows the database engine and its driver: no other package's code (its
// tests aside, which may look under the stores) imports the driver's engine API.
func TestOnlyDatabaseImportsTheDriver(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "polyphony/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	packages := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		packages++
		if slices.Contains(mayUseDriver, p.ImportPath) {
			continue
		}
		for _, imp := range p.Imports {
			if imp == driverPackage || strings.HasPrefix(imp, driverPackage+"/") {
				t.Errorf("%s imports %s: reach the records through database.Collection", p.ImportPath, imp)
			}
		}
	}
	if packages < 10 {
		t.Fatalf("go list named %d packages; expected the whole module", packages)
	}
}
