package privacy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// A sealed value reads "yanit:enc:v1:<key id>:<base64 of nonce||ciphertext>":
// AES-256-GCM with a random 96-bit nonce, and the header up to the last
// colon as additional data, so that a value cannot be passed off under
// another version or key id.
const (
	sealedPrefix  = "yanit:enc:"
	sealedVersion = "v1"
)

// KeySize is the length of a key, in bytes: AES-256.
const KeySize = 32

// maxKeyID is the longest key id a keyring accepts.
const maxKeyID = 32

// ErrUnknownKey is returned by Open for a value sealed with a key the
// keyring does not hold: add the old key to the ring to read it.
var ErrUnknownKey = errors.New("unknown key")

// Keyring holds the AES-256 keys that seal and open values at rest, each
// under a short id written into every value it seals. The first key is
// the active one: Seal uses it. The others only open what they sealed
// before a rotation.
//
// A Keyring is immutable and safe for concurrent use. It never shows its
// keys: printing it shows the ids.
type Keyring struct {
	active string
	ids    []string
	keys   map[string]sealer
}

// sealer is one key of a ring: its cipher and the header of its values.
type sealer struct {
	aead   cipher.AEAD
	header []byte
}

// ParseKeyring reads a keyring from spec, a comma-separated list of
// "id:key" entries where id is 1 to 32 of a-z, 0-9, '_' and '-', and key
// is the standard base64 of KeySize bytes (GenerateKey makes one). The
// first entry is the active key. Spaces around an entry are ignored. Its
// errors name the entry and what is wrong with it, never key material.
func ParseKeyring(spec string) (*Keyring, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("keyring: no keys")
	}
	k := &Keyring{keys: map[string]sealer{}}
	for i, entry := range strings.Split(spec, ",") {
		n := i + 1
		entry = strings.TrimSpace(entry)
		id, key, ok := strings.Cut(entry, ":")
		switch {
		case entry == "":
			return nil, fmt.Errorf("keyring: entry %d is empty", n)
		case !ok:
			return nil, fmt.Errorf("keyring: entry %d: want id:base64key", n)
		case !validKeyID(id):
			// The id is not shown: a malformed entry may hold the key there.
			return nil, fmt.Errorf("keyring: entry %d: the key id must be 1 to %d of a-z, 0-9, _ and -", n, maxKeyID)
		case k.keys[id].aead != nil:
			return nil, fmt.Errorf("keyring: entry %d: key id %q is used twice", n, id)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(key))
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q is not standard base64", id)
		}
		if len(raw) != KeySize {
			return nil, fmt.Errorf("keyring: key %q is %d bytes long, want %d", id, len(raw), KeySize)
		}
		aead, err := newAEAD(raw)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: %w", id, err)
		}
		if n == 1 {
			k.active = id
		}
		k.ids = append(k.ids, id)
		k.keys[id] = sealer{aead: aead, header: []byte(header(id))}
	}
	return k, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

func validKeyID(id string) bool {
	if id == "" || len(id) > maxKeyID {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// validVersion reports whether v looks like a format version ("v2"),
// which an error may show; anything else may be content.
func validVersion(v string) bool {
	if len(v) < 2 || len(v) > 5 || v[0] != 'v' {
		return false
	}
	return strings.Trim(v[1:], "0123456789") == ""
}

// GenerateKey returns a new random key in the form ParseKeyring reads:
// the standard base64 of KeySize bytes.
func GenerateKey() string {
	key := make([]byte, KeySize)
	_, _ = rand.Read(key) // never fails: it crashes the program instead
	return base64.StdEncoding.EncodeToString(key)
}

// Active returns the id of the key that seals.
func (k *Keyring) Active() string { return k.active }

// IDs returns the ids of the keys, the active one first.
func (k *Keyring) IDs() []string { return append([]string(nil), k.ids...) }

// String names the keyring's keys, never showing them.
func (k *Keyring) String() string {
	return "privacy.Keyring{active: " + k.active + ", keys: " + strings.Join(k.ids, ",") + "}"
}

// GoString is String, so that %#v shows no key either.
func (k *Keyring) GoString() string { return k.String() }

// header is what every value sealed with key id starts with; it is the
// additional data of the encryption.
func header(id string) string { return sealedPrefix + sealedVersion + ":" + id + ":" }

// Seal encrypts plain with the active key into a value that Open of a
// keyring holding that key turns back into plain. Every call draws a new
// random nonce, so sealing a value twice gives two different values. A
// key must seal fewer than 2^32 values: rotate long before.
func (k *Keyring) Seal(plain []byte) (string, error) {
	key := k.keys[k.active]
	if key.aead == nil {
		return "", errors.New("sealing: the keyring has no keys")
	}
	ct := key.aead.Seal(make([]byte, 0, len(plain)+key.aead.Overhead()), nil, plain, key.header)
	out := make([]byte, 0, len(key.header)+base64.StdEncoding.EncodedLen(len(ct)))
	out = base64.StdEncoding.AppendEncode(append(out, key.header...), ct)
	return string(out), nil
}

// Open decrypts a value Seal made with any key of the keyring. Its errors
// name the key id and what went wrong, never the content: a value sealed
// with a key the ring lacks is ErrUnknownKey; one altered, or sealed by
// another key under the same id, fails authentication.
func (k *Keyring) Open(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, sealedPrefix)
	if !ok {
		return nil, errors.New("opening: not a sealed value")
	}
	version, rest, _ := strings.Cut(rest, ":")
	if version != sealedVersion {
		if !validVersion(version) {
			return nil, errors.New("opening: the sealed value has a malformed version")
		}
		return nil, fmt.Errorf("opening: a value sealed in format %s, which this build does not know (it knows %s)",
			version, sealedVersion)
	}
	id, data, ok := strings.Cut(rest, ":")
	if !ok || !validKeyID(id) {
		// Not shown: a malformed value may be anything.
		return nil, errors.New("opening: the sealed value has a malformed key id")
	}
	key := k.keys[id]
	if key.aead == nil {
		return nil, fmt.Errorf("opening a value sealed with key %q: %w (the keyring holds %s)",
			id, ErrUnknownKey, strings.Join(k.ids, ", "))
	}
	ct, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, fmt.Errorf("opening a value sealed with key %q: the ciphertext is not base64", id)
	}
	plain, err := key.aead.Open(ct[:0], nil, ct, key.header)
	if err != nil {
		return nil, fmt.Errorf("opening a value sealed with key %q: it was altered, or sealed with another key of that id", id)
	}
	return plain, nil
}

// Sealed reports whether s is a sealed value rather than plain text. It
// looks at the prefix only: Open tells whether the value is sound.
func Sealed(s string) bool { return strings.HasPrefix(s, sealedPrefix) }

// KeyID returns the id of the key that sealed s, and false when s is not
// a sealed value of a known version with a well-formed id.
func KeyID(s string) (string, bool) {
	rest, ok := strings.CutPrefix(s, sealedPrefix+sealedVersion+":")
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ":")
	if !ok || !validKeyID(id) {
		return "", false
	}
	return id, true
}
