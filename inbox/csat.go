package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/store"
)

// The rating a user gives a resolved ticket: three faces on reply buttons,
// scored 1, 3 and 5 (the CSAT scale of 1 to 5). A button's id is
// "csat:<ticket>:<score>", so the answer finds its ticket by itself.

const csatPrefix = "csat:"

var csatTexts = map[string]map[string]string{
	"question": {
		"tr": "Görüşmemiz sona erdi. Bize yardımcı olmak için deneyiminizi değerlendirir misiniz?",
		"en": "Our conversation has ended. Would you rate how we helped you?",
	},
	"thanks": {
		"tr": "Değerlendirmeniz için teşekkür ederiz.",
		"en": "Thank you for your rating.",
	},
}

var csatButtons = map[string][3]string{
	"tr": {"😞 Kötü", "😐 İdare eder", "😊 İyi"},
	"en": {"😞 Poor", "😐 Okay", "😊 Good"},
}

// CSATQuestion is the rating question of ticket t, in the language of its
// context pack.
func CSATQuestion(t store.Ticket) whatsapp.Outbound {
	lang := packLanguage(t.Pack)
	titles, ok := csatButtons[lang]
	if !ok {
		titles = csatButtons["tr"]
	}
	var buttons []whatsapp.Button
	for i, score := range []int{1, 3, 5} {
		buttons = append(buttons, whatsapp.Button{ID: fmt.Sprintf("%s%d:%d", csatPrefix, t.ID, score), Title: titles[i]})
	}
	return whatsapp.Outbound{Content: &whatsapp.Buttons{Body: pick(csatTexts["question"], lang), Buttons: buttons}}
}

// ParseCSAT reads the id of a rating button.
func ParseCSAT(id string) (ticket int64, score int, ok bool) {
	rest, found := strings.CutPrefix(id, csatPrefix)
	if !found {
		return 0, 0, false
	}
	t, s, found := strings.Cut(rest, ":")
	ticket, err1 := strconv.ParseInt(t, 10, 64)
	score, err2 := strconv.Atoi(s)
	if !found || err1 != nil || err2 != nil || ticket <= 0 || score < 1 || score > 5 {
		return 0, 0, false
	}
	return ticket, score, true
}

// RecordCSAT stores the rating a user of conversation conversationID gave
// ticket, in tx, and returns the thanks to send. A rating of another
// conversation's ticket is refused (ErrInvalid); rating again replaces the
// rating.
func RecordCSAT(ctx context.Context, tx store.Queries, conversationID, ticket int64, score int) (string, error) {
	t, err := tx.GetTicket(ctx, ticket)
	if err != nil {
		return "", err
	}
	if t.ConversationID != conversationID {
		return "", fmt.Errorf("%w: ticket %d is not of conversation %d", ErrInvalid, ticket, conversationID)
	}
	if err := tx.SetTicketCSAT(ctx, ticket, score); err != nil {
		return "", err
	}
	data, _ := json.Marshal(map[string]int{"score": score})
	if _, err := tx.AddTicketEvent(ctx, store.TicketEvent{TicketID: ticket, Kind: "csat", Data: data}); err != nil {
		return "", err
	}
	return pick(csatTexts["thanks"], packLanguage(t.Pack)), nil
}
