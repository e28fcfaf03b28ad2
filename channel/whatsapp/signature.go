package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
)

// SignatureHeader is the header Meta signs every webhook POST with.
const SignatureHeader = "X-Hub-Signature-256"

// signaturePrefix starts the value of SignatureHeader.
const signaturePrefix = "sha256="

// Errors returned by VerifySignature. A caller answers 401 for
// ErrSignatureMissing and 403 for anything that errors.Is ErrSignatureInvalid
// (ErrSignatureMalformed and ErrSignatureMismatch both do), and stores
// nothing.
var (
	// ErrSignatureMissing means the request carried no signature header.
	ErrSignatureMissing = errors.New("whatsapp: webhook signature missing")
	// ErrSignatureInvalid is the class of every signature that is present but
	// not acceptable.
	ErrSignatureInvalid = errors.New("whatsapp: webhook signature invalid")
	// ErrSignatureMalformed means the header is not "sha256=" and 64 hex digits.
	ErrSignatureMalformed error = &signatureError{"whatsapp: webhook signature header malformed"}
	// ErrSignatureMismatch means the header is well formed but the HMAC of the
	// body under the app secret differs.
	ErrSignatureMismatch error = &signatureError{"whatsapp: webhook signature does not match the body"}
	// ErrNoAppSecret means VerifySignature was called without an app secret: a
	// configuration error, never a reason to accept a body.
	ErrNoAppSecret = errors.New("whatsapp: app secret not configured")
)

// signatureError is a specific invalid signature: it reports itself as
// ErrSignatureInvalid to errors.Is.
type signatureError struct{ msg string }

// Error returns the message.
func (e *signatureError) Error() string { return e.msg }

// Is reports ErrSignatureInvalid.
func (e *signatureError) Is(target error) bool { return target == ErrSignatureInvalid }

// Sign returns the X-Hub-Signature-256 value Meta would send for body:
// "sha256=" and the hex HMAC-SHA256 of the raw bytes keyed by appSecret. The
// simulator and tests use it to sign what they post.
func Sign(appSecret string, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(appSecret, body))
}

// VerifySignature checks header, the value of X-Hub-Signature-256, against
// the raw request body. It must run on the bytes as received, before any
// decoding: Meta signs its own encoding (non-ASCII escaped as \u00e4), which
// a re-encoded body would not reproduce. The comparison is constant-time.
func VerifySignature(appSecret, header string, body []byte) error {
	if appSecret == "" {
		return ErrNoAppSecret
	}
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrSignatureMissing
	}
	digest, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		return ErrSignatureMalformed
	}
	got, err := hex.DecodeString(digest)
	if err != nil || len(got) != sha256.Size {
		return ErrSignatureMalformed
	}
	if !hmac.Equal(got, mac(appSecret, body)) {
		return ErrSignatureMismatch
	}
	return nil
}

func mac(secret string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(body)
	return h.Sum(nil)
}

// VerifyChallenge answers Meta's subscription handshake
// (GET ?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C). It returns the
// challenge to write back as the bare 200 body and true when the mode is
// "subscribe", the token equals verifyToken (compared in constant time) and a
// challenge is present; otherwise "" and false, and the caller answers 403.
// An empty verifyToken never matches.
func VerifyChallenge(q url.Values, verifyToken string) (challenge string, ok bool) {
	if verifyToken == "" || q.Get("hub.mode") != "subscribe" {
		return "", false
	}
	token := q.Get("hub.verify_token")
	if subtle.ConstantTimeCompare([]byte(token), []byte(verifyToken)) != 1 {
		return "", false
	}
	challenge = q.Get("hub.challenge")
	if challenge == "" {
		return "", false
	}
	return challenge, true
}
