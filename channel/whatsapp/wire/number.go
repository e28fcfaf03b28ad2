package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Timestamp is a Unix time in seconds as Meta writes it: a JSON string of
// digits in messages and statuses ("1739321024"), a JSON number in some newer
// webhooks (user_preferences). It decodes from either and encodes as a string.
// The zero value means absent.
type Timestamp string

// UnmarshalJSON accepts a JSON string, an integer JSON number or null.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	s, err := decodeNumberString(b)
	if err != nil {
		return fmt.Errorf("decoding timestamp: %w", err)
	}
	*t = Timestamp(s)
	return nil
}

// maxUnixSeconds is 9999-12-31T23:59:59Z: beyond it time.Time cannot be
// encoded as RFC 3339, so nothing downstream could persist it.
const maxUnixSeconds = 253402300799

// Time converts t to a UTC time. An empty Timestamp gives the zero time and
// no error; anything but a base-10 integer between 0 and year 9999 is an error.
func (t Timestamp) Time() (time.Time, error) {
	if t == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(string(t), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("parsing timestamp %q: not an integer", string(t))
	}
	if n < 0 || n > maxUnixSeconds {
		return time.Time{}, fmt.Errorf("parsing timestamp %q: out of range", string(t))
	}
	return time.Unix(n, 0).UTC(), nil
}

// Index is a template button position. Meta's examples write it as a string
// ("0"); a number is accepted too. It encodes as a string.
type Index string

// UnmarshalJSON accepts a JSON string, an integer JSON number or null.
func (i *Index) UnmarshalJSON(b []byte) error {
	s, err := decodeNumberString(b)
	if err != nil {
		return fmt.Errorf("decoding index: %w", err)
	}
	*i = Index(s)
	return nil
}

// decodeNumberString returns the text of a JSON string or integer number;
// null gives "".
func decodeNumberString(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return "", nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return s, nil
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return "", fmt.Errorf("want a string or a number, got %.20s", b)
		}
		if _, err := n.Int64(); err != nil {
			return "", fmt.Errorf("want an integer, got %s", n)
		}
		return n.String(), nil
	}
}
