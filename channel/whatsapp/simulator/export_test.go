package simulator

import "time"

// SetRetry shortens webhook retries for tests; call it before any action.
func SetRetry(s *Simulator, attempts int, backoff time.Duration) {
	s.retry = retryPolicy{attempts: attempts, backoff: backoff, maxWait: backoff}
}
