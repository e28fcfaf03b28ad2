//go:build race

package local

// raceEnabled is true under -race, which slows training tenfold: the
// full-size dataset checks then run on subsets or skip.
const raceEnabled = true
