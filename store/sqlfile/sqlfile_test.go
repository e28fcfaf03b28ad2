package sqlfile

import (
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	good := fstest.MapFS{"queries/a.sql": {Data: []byte(
		"-- File comment.\n\n-- name: One :one\n-- What it does.\nSELECT 1;\n\n-- name: Two :exec\nSELECT 2;\n")}}
	qs, err := Load(good, "queries/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if qs.Get("One") != "-- What it does.\nSELECT 1;" || qs.Get("Two") != "SELECT 2;" || len(qs) != 2 {
		t.Fatalf("loaded %q", qs)
	}
	for name, data := range map[string]string{
		"duplicate": "-- name: One\nSELECT 1;\n-- name: One\nSELECT 2;\n",
		"empty":     "-- name: One\n\n-- name: Two\nSELECT 2;\n",
		"unnamed":   "-- name:\nSELECT 1;\n",
	} {
		if _, err := Load(fstest.MapFS{"queries/a.sql": {Data: []byte(data)}}, "queries/*.sql"); err == nil {
			t.Errorf("%s statement: want an error", name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Get of an unknown name must panic")
		}
	}()
	qs.Get("Three")
}
