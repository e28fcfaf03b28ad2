package local

import (
	"os"
	"path/filepath"
	"testing"
)

// datasetPath returns the path of a file under the shared datasets folder:
// $YANIT_DATASETS (scripts/test.sh finds it) or shared/datasets beside the
// repository. Without it the test skips, except in CI, where it fails: there
// nothing may skip.
func datasetPath(t testing.TB, rel string) string {
	t.Helper()
	dir := os.Getenv("YANIT_DATASETS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "datasets")
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dataset %s missing in CI: %v (set YANIT_DATASETS to the shared datasets folder)", rel, err)
		}
		t.Skipf("dataset %s not found (%v); it lives in shared/datasets beside the repository", rel, err)
	}
	return p
}

func loadCLINC(t testing.TB, split string) []Example {
	t.Helper()
	es, err := LoadCLINC150(datasetPath(t, "clinc150/data_full.json"), split)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func loadXSID(t testing.TB, file string) []Example {
	t.Helper()
	es, err := LoadXSID(datasetPath(t, filepath.Join("xsid_tr", file)))
	if err != nil {
		t.Fatal(err)
	}
	return es
}
