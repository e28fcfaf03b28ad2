package eval

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML, as CI systems read it (the Ant schema's subset that Jenkins,
// GitLab and GitHub reporters agree on).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"`
}

// WriteJUnit writes the reports as JUnit XML: a testsuite per suite, with
// its metrics as properties, and a testcase per case. A case that missed
// an expectation is a failure whose message is its first reason and whose
// text lists every failed turn; a case that could not run is an error.
func WriteJUnit(w io.Writer, reports []Report) error {
	doc := junitSuites{Name: "yanit eval"}
	var total float64
	for _, r := range reports {
		s := junitSuite{Name: r.Suite, Tests: len(r.Cases), Time: seconds(r.DurationMS), Timestamp: r.Started.Format("2006-01-02T15:04:05")}
		for _, name := range metricOrder {
			if v, ok := r.Metrics[name]; ok {
				s.Properties = append(s.Properties, junitProperty{Name: name, Value: fmt.Sprintf("%.4f", v)})
			}
		}
		if r.Provider != "" {
			s.Properties = append(s.Properties, junitProperty{Name: "provider", Value: r.Provider})
		}
		for _, c := range r.Cases {
			jc := junitCase{Name: c.Name, Classname: r.Suite, Time: seconds(c.DurationMS)}
			switch {
			case c.Error != "":
				jc.Error = &junitProblem{Message: c.Error, Type: "error", Body: c.Error}
				s.Errors++
			case !c.Passed:
				jc.Failure = failureOf(c)
				s.Failures++
			}
			s.Cases = append(s.Cases, jc)
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		total += r.DurationMS
		doc.Suites = append(doc.Suites, s)
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// failureOf describes a failed case: every failed turn with its input,
// reasons and what the assistant did.
func failureOf(c CaseResult) *junitProblem {
	var first string
	var b strings.Builder
	for i, t := range c.Turns {
		if t.Passed {
			continue
		}
		if first == "" {
			first = fmt.Sprintf("turn %d: %s", i+1, strings.Join(t.Failures, "; "))
		}
		fmt.Fprintf(&b, "turn %d %q\n", i+1, t.Input)
		for _, f := range t.Failures {
			fmt.Fprintf(&b, "  - %s\n", f)
		}
		fmt.Fprintf(&b, "  got: intent %s (%.2f), decision %s: %s\n", label(t.Intent), t.Confidence, orNone(t.Decision), t.Reason)
		for _, m := range t.Replies {
			fmt.Fprintf(&b, "  reply (%s): %s\n", m.Kind, m.Text)
		}
	}
	return &junitProblem{Message: first, Type: "expectation", Body: b.String()}
}

func seconds(ms float64) string { return fmt.Sprintf("%.3f", ms/1000) }
