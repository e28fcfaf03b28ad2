//go:build !race

package knowledge_test

// raceEnabled is true under -race, which slows searching tenfold: the
// dataset checks then run on a fixed subset.
const raceEnabled = false
