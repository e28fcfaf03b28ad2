package web

import (
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yanit/yanit/channel/whatsapp"
)

// webhookVerify answers Meta's subscription handshake: the bare challenge
// when mode and token match, else 403.
func (s *Server) webhookVerify(c *gin.Context) {
	challenge, ok := whatsapp.VerifyChallenge(c.Request.URL.Query(), s.whatsapp.VerifyToken)
	if !ok {
		writeError(c, http.StatusForbidden, "hub.mode or hub.verify_token does not match")
		return
	}
	c.String(http.StatusOK, challenge)
}

// webhookReceive checks the signature over the raw body, parses every item,
// persists what it can, and only then answers 200: Meta has no API to fetch
// a missed webhook, so a store failure answers 500 and Meta delivers the
// webhook again (what was stored is a duplicate then, and a no-op).
func (s *Server) webhookReceive(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(c, http.StatusRequestEntityTooLarge, "webhook body over the size limit (http.max_body_bytes)")
			return
		}
		writeError(c, http.StatusBadRequest, "reading the webhook body: "+err.Error())
		return
	}
	if err := whatsapp.VerifySignature(s.whatsapp.AppSecret, c.GetHeader(whatsapp.SignatureHeader), body); err != nil {
		reason := "invalid"
		if errors.Is(err, whatsapp.ErrSignatureMissing) {
			reason = "missing"
		}
		s.signatureFailures.WithLabelValues(reason).Inc()
		s.log.Warn("webhook refused: bad signature", slog.String("reason", reason), slog.String("remote", c.ClientIP()))
		writeError(c, http.StatusUnauthorized, "X-Hub-Signature-256 is "+reason)
		return
	}
	b := s.backend.Load()
	if b == nil {
		writeError(c, http.StatusServiceUnavailable, *s.notReady.Load())
		return
	}
	batch, itemErrs, err := whatsapp.Parse(body)
	if err != nil {
		s.channelMetrics.Item("body", "malformed")
		s.log.Error("webhook body is not a WhatsApp notification", slog.String("error", err.Error()), slog.Int("bytes", len(body)))
		writeError(c, http.StatusBadRequest, err.Error())
		return
	}
	for _, ie := range itemErrs {
		s.channelMetrics.Item("item", "malformed")
		s.log.Warn("webhook item skipped", slog.String("position", ie.Position.String()), slog.String("error", ie.Err.Error()))
	}
	acc, err := b.Receiver.Accept(c.Request.Context(), batch)
	if err != nil {
		s.log.Error("storing webhook", slog.String("error", err.Error()))
		writeError(c, http.StatusInternalServerError, "storing the webhook failed; it will be retried")
		return
	}
	c.JSON(http.StatusOK, gin.H{"messages": acc.Messages, "duplicates": acc.Duplicates, "statuses": acc.Statuses, "skipped": len(itemErrs)})
}
