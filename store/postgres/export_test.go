package postgres

import (
	"github.com/jackc/pgx/v5"

	"github.com/yanit/yanit/store"
)

// VectorQuery returns the statement and the arguments SearchVector runs
// for v, f and limit, so that tests can EXPLAIN it.
func VectorQuery(v []float32, f store.ChunkFilter, limit int) (string, pgx.StrictNamedArgs) {
	return vectorQuery(v, f, limit)
}
