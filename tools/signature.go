package tools

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the header that carries the signature of every
// request an HTTP tool sends.
const SignatureHeader = "X-Yanit-Signature"

// DefaultSignatureTolerance is how far a signature's timestamp may be from
// the verifier's clock when VerifyRequest is given no tolerance.
const DefaultSignatureTolerance = 5 * time.Minute

// Errors returned by VerifyRequest. A backend answers 401 to all of them
// and does nothing else with the request.
var (
	// ErrNoSigningKey means VerifyRequest was called with an empty key: a
	// configuration mistake, never a reason to accept a request.
	ErrNoSigningKey = errors.New("tools: no signing key")
	// ErrSignatureMissing means the request carries no X-Yanit-Signature.
	ErrSignatureMissing = errors.New("tools: request signature missing")
	// ErrSignatureMalformed means the header is not "t=<unix seconds>,v1=<64
	// hex digits>".
	ErrSignatureMalformed = errors.New("tools: request signature header malformed")
	// ErrSignatureStale means the signature is right but its timestamp is
	// further from now than the tolerance: an old request replayed, or a
	// clock that is off.
	ErrSignatureStale = errors.New("tools: request signature timestamp outside the tolerance")
	// ErrSignatureMismatch means the header is well formed but no v1 value
	// is the HMAC of this request under the key.
	ErrSignatureMismatch = errors.New("tools: request signature does not match the request")
)

// SignRequest sets the X-Yanit-Signature header of r:
//
//	t=<unix seconds of now>,v1=<hex HMAC-SHA256(key, "<t>.<METHOD>.<request URI>.<body>")>
//
// The request URI is the escaped path and query as sent
// (r.URL.RequestURI()), and body must be the exact bytes r sends (empty
// for none). Sign after the URL and body are final.
func SignRequest(key []byte, r *http.Request, body []byte, now time.Time) {
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	t := now.Unix()
	mac := requestMAC(key, t, r, body)
	r.Header.Set(SignatureHeader, "t="+strconv.FormatInt(t, 10)+",v1="+hex.EncodeToString(mac))
}

// VerifyRequest checks the X-Yanit-Signature of a received request against
// key, for a backend that serves yanit's HTTP tools. body must be the raw
// bytes read from r.Body, before any decoding. The request URI is
// r.RequestURI as received (r.URL.RequestURI() when that is empty, as in a
// request built by hand), so a backend behind a proxy that rewrites paths
// must verify against the path yanit sent. The comparison is constant-time;
// several v1 values are accepted, any one of which may match.
//
// The timestamp may be at most tolerance before or after now (0 means
// DefaultSignatureTolerance). Errors are, in the order checked,
// ErrNoSigningKey, ErrSignatureMissing, ErrSignatureMalformed,
// ErrSignatureMismatch and ErrSignatureStale (wrapped with the age), so a
// stale error means the signature itself was right.
func VerifyRequest(key []byte, r *http.Request, body []byte, now time.Time, tolerance time.Duration) error {
	if len(key) == 0 {
		return ErrNoSigningKey
	}
	header := strings.TrimSpace(r.Header.Get(SignatureHeader))
	if header == "" {
		return ErrSignatureMissing
	}
	t, macs, err := parseSignature(header)
	if err != nil {
		return err
	}
	want := requestMAC(key, t, r, body)
	matched := false
	for _, m := range macs {
		if hmac.Equal(m, want) {
			matched = true
		}
	}
	if !matched {
		return ErrSignatureMismatch
	}
	if tolerance <= 0 {
		tolerance = DefaultSignatureTolerance
	}
	age := now.Sub(time.Unix(t, 0))
	if age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: signed %s from now, tolerance %s", ErrSignatureStale, age.Round(time.Second), tolerance)
	}
	return nil
}

// parseSignature reads "t=…,v1=…[,v1=…]"; other keys are ignored, for
// schemes to come.
func parseSignature(header string) (t int64, macs [][]byte, err error) {
	seenT := false
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return 0, nil, ErrSignatureMalformed
		}
		switch k {
		case "t":
			if seenT || v == "" || strings.TrimLeft(v, "0123456789") != "" {
				return 0, nil, ErrSignatureMalformed
			}
			t, err = strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, nil, ErrSignatureMalformed
			}
			seenT = true
		case "v1":
			m, err := hex.DecodeString(v)
			if err != nil || len(m) != sha256.Size {
				return 0, nil, ErrSignatureMalformed
			}
			macs = append(macs, m)
		}
	}
	if !seenT || len(macs) == 0 {
		return 0, nil, ErrSignatureMalformed
	}
	return t, macs, nil
}

// requestMAC is HMAC-SHA256(key, "<t>.<METHOD>.<request URI>.<body>").
func requestMAC(key []byte, t int64, r *http.Request, body []byte) []byte {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	h := hmac.New(sha256.New, key)
	h.Write([]byte(strconv.FormatInt(t, 10)))
	h.Write([]byte("."))
	h.Write([]byte(method))
	h.Write([]byte("."))
	h.Write([]byte(uri))
	h.Write([]byte("."))
	h.Write(body)
	return h.Sum(nil)
}
