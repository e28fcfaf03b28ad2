package eval

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Limits are the largest drop the gate allows per metric: percentage
// points for rates (ECE included: 1 point is 0.01), milliseconds for
// latencies. A rate metric not named allows no drop at all; a latency not
// named is not gated.
type Limits map[string]float64

// ParseLimits reads metric=amount pairs, as --max-drop takes them; an
// unknown metric is an error listing the known ones.
func ParseLimits(specs []string) (Limits, error) {
	l := Limits{}
	for _, s := range specs {
		name, value, ok := strings.Cut(s, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("max drop %q: want metric=amount, like intent_accuracy=2", s)
		}
		if _, known := metricInfos[name]; !known {
			return nil, fmt.Errorf("max drop %q: no metric %q (%s)", s, name, strings.Join(metricOrder, ", "))
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("max drop %q: %q is not a non-negative number", s, value)
		}
		l[name] = v
	}
	return l, nil
}

// Diff is one metric of one suite in two runs.
type Diff struct {
	Suite   string  `json:"suite"`
	Metric  string  `json:"metric"`
	Base    float64 `json:"base"`
	Current float64 `json:"current"`
	// Drop is how much worse Current is than Base, in percentage points
	// for rates and in the metric's unit otherwise; negative is better.
	Drop float64 `json:"drop"`
	// Allowed is the drop the limits allow; Gated says whether the gate
	// looks at this metric at all.
	Allowed   float64 `json:"allowed"`
	Gated     bool    `json:"gated"`
	Regressed bool    `json:"regressed"`
}

// String says what changed, and whether that is too much.
func (d Diff) String() string {
	info := metricInfos[d.Metric]
	unit := " points"
	if !info.rate {
		unit = " ms"
	}
	change := fmt.Sprintf("%s → %s", formatMetric(d.Metric, d.Base), formatMetric(d.Metric, d.Current))
	if d.Regressed {
		verb := "dropped" // a higher-is-better metric went down
		if info.lower {
			verb = "rose"
		}
		return fmt.Sprintf("%s: %s %s %.2f%s (%s), more than the %.2f allowed", d.Suite, d.Metric, verb, d.Drop, unit, change, d.Allowed)
	}
	return fmt.Sprintf("%s: %s %s", d.Suite, d.Metric, change)
}

// Comparison is a run compared with a baseline.
type Comparison struct {
	Diffs []Diff
	// Notes say what could not be compared: a suite or metric only one
	// side has.
	Notes []string
}

// tolerance absorbs float noise in a drop of zero.
const tolerance = 1e-9

// Compare compares the current reports with the baseline's, suite by
// suite (matched by name) and metric by metric, and marks the drops the
// limits do not allow.
func Compare(base, current []Report, limits Limits) Comparison {
	var c Comparison
	byName := map[string]Report{}
	for _, r := range base {
		byName[r.Suite] = r
	}
	seen := map[string]bool{}
	for _, cur := range current {
		seen[cur.Suite] = true
		b, ok := byName[cur.Suite]
		if !ok {
			c.Notes = append(c.Notes, fmt.Sprintf("%s: not in the baseline", cur.Suite))
			continue
		}
		for _, name := range metricOrder {
			bv, inBase := b.Metrics[name]
			cv, inCur := cur.Metrics[name]
			switch {
			case inBase && !inCur:
				c.Notes = append(c.Notes, fmt.Sprintf("%s: %s is in the baseline but was not measured", cur.Suite, name))
				continue
			case !inBase:
				continue
			}
			info := metricInfos[name]
			d := Diff{Suite: cur.Suite, Metric: name, Base: bv, Current: cv, Drop: bv - cv}
			if info.lower {
				d.Drop = -d.Drop
			}
			if info.rate {
				d.Drop *= 100
			}
			limit, named := limits[name]
			d.Gated, d.Allowed = info.gated || named, limit
			d.Regressed = d.Gated && d.Drop > limit+tolerance
			c.Diffs = append(c.Diffs, d)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		if !seen[name] {
			c.Notes = append(c.Notes, fmt.Sprintf("%s: in the baseline but not run", name))
		}
	}
	return c
}

// Regressions are the diffs the gate fails on.
func (c Comparison) Regressions() []Diff {
	var out []Diff
	for _, d := range c.Diffs {
		if d.Regressed {
			out = append(out, d)
		}
	}
	return out
}

// Write prints the comparison as a table, then its notes.
func (c Comparison) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "suite\tmetric\tbaseline\tcurrent\tchange\t")
	for _, d := range c.Diffs {
		info := metricInfos[d.Metric]
		delta := d.Current - d.Base
		change := fmt.Sprintf("%+.2f ms", delta)
		if info.rate {
			change = fmt.Sprintf("%+.2f pt", 100*delta)
		}
		mark := ""
		switch {
		case d.Regressed:
			mark = fmt.Sprintf("REGRESSED (allowed %.2f)", d.Allowed)
		case d.Drop < -tolerance:
			mark = "better"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Suite, d.Metric, formatMetric(d.Metric, d.Base),
			formatMetric(d.Metric, d.Current), change, mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range c.Notes {
		if _, err := fmt.Fprintln(w, "note:", n); err != nil {
			return err
		}
	}
	return nil
}
