package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"

	"github.com/yanit/yanit/tools"
)

// card is a Yanıt Kart loyalty card. A point is worth 0.10 TL.
type card struct {
	points int
	tier   string // Classic, Gold or Platinum
	// expiring points lapse at the end of the current month.
	expiring    int
	memberSince string // YYYY-MM
	last4       string
}

// seedCards returns the cards of the demo, by phone number.
func seedCards() map[string]card {
	return map[string]card{
		"+905321234567":  {points: 1234, tier: "Gold", expiring: 200, memberSince: "2019-04", last4: "4417"},
		"+905551112233":  {points: 15820, tier: "Platinum", expiring: 1500, memberSince: "2014-09", last4: "0932"},
		"+447700900123":  {points: 340, tier: "Classic", memberSince: "2024-11", last4: "7781"},
		"+905339876543":  {points: 5075, tier: "Gold", expiring: 75, memberSince: "2021-02", last4: "3391"},
		"+905059998877":  {points: 0, tier: "Classic", memberSince: "2025-12", last4: "5120"},
		"+4915112345678": {points: 2210, tier: "Gold", expiring: 310, memberSince: "2022-06", last4: "8846"},
	}
}

// generatedPhone matches the numbers that have a card without a seed.
var generatedPhone = regexp.MustCompile(`^\+90555000(\d{4})$`)

// generatedCard makes the card of a +90555000XXXX number from its last
// four digits, the same on every call.
func generatedCard(suffix string) card {
	n, _ := strconv.Atoi(suffix)
	points := n * 7919 % 20000
	tier := "Classic"
	switch {
	case points >= 10000:
		tier = "Platinum"
	case points >= 2000:
		tier = "Gold"
	}
	return card{
		points:      points,
		tier:        tier,
		expiring:    points * (n % 4) / 20,
		memberSince: fmt.Sprintf("%d-%02d", 2012+n%13, 1+n%12),
		last4:       fmt.Sprintf("%04d", (n*37+1000)%10000),
	}
}

// cardBalance is the card_balance tool.
type cardBalance struct{ s *Store }

var _ tools.Tool = (*cardBalance)(nil)

func (*cardBalance) Spec() tools.Spec {
	return tools.Spec{
		Name: "card_balance",
		Description: texts(
			"Telefon numarasına bağlı Yanıt Kart'ın puan bakiyesini, TL karşılığını, seviyesini ve ay sonunda silinecek puanları getirir.",
			"Looks up the Yanıt Kart loyalty card of a phone number: points, their value in TL, tier and the points that expire at the end of the month.",
		),
		Parameters: json.RawMessage(`{
			"type": "object",
			"properties": {
				"phone": {
					"type": "string",
					"pattern": "^\\+[1-9]\\d{7,14}$",
					"description": "The card holder's phone number in E.164, like +905321234567."
				}
			},
			"required": ["phone"],
			"additionalProperties": false
		}`),
		Idempotent: true,
	}
}

func (t *cardBalance) Call(_ context.Context, args json.RawMessage) (tools.Result, error) {
	var in struct {
		Phone string `json:"phone"`
	}
	if err := json.Unmarshal(args, &in); err != nil {
		return tools.Result{}, tools.Invalid("", "cannot read the arguments: %v", err)
	}
	c, ok := t.s.cards[in.Phone]
	if !ok {
		m := generatedPhone.FindStringSubmatch(in.Phone)
		if m == nil {
			// The number is personal data: the message does not repeat it.
			return tools.Result{}, tools.NotFound("no loyalty card for that phone number")
		}
		c = generatedCard(m[1])
	}
	user := map[string]any{
		"points":          c.points,
		"tl_value":        formatTL(int64(c.points) * 10),
		"tier":            c.tier,
		"expiring_points": c.expiring,
	}
	if c.expiring > 0 {
		today := t.s.today()
		user["expiry_date"] = today.AddDate(0, 1, -today.Day()).Format(dateLayout)
	}
	return tools.Result{
		User:  user,
		Agent: map[string]any{"member_since": c.memberSince, "card_last4": c.last4},
	}, nil
}
