package store

import "errors"

// ErrNotFound is returned when the requested record does not exist.
var ErrNotFound = errors.New("not found")

// ErrDuplicate is returned when an insert hits a uniqueness rule that makes
// the operation a no-op, e.g. an inbound message whose channel id was seen.
var ErrDuplicate = errors.New("duplicate")

// ErrConflict is returned when a write loses a race or breaks a state rule.
var ErrConflict = errors.New("conflict")
