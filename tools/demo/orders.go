package demo

import (
	"context"
	"encoding/json"
	"maps"
	"time"

	"github.com/yanit/yanit/tools"
)

// Order is an online order of Yanıt Market. Dates are YYYY-MM-DD, empty
// when they do not apply.
type Order struct {
	// ID looks like SP-2026-0001.
	ID string
	// Status is preparing, shipped, delivered or cancelled.
	Status   string
	Customer string
	City     string
	Payment  string
	// Items lists what was ordered, in Turkish, in short.
	Items string
	// Total is the amount paid in kuruş (1/100 TL).
	Total   int64
	Carrier string
	// Tracking is the carrier's number, once the parcel left the store.
	Tracking string
	PlacedOn string
	// ETA is the expected delivery date of an order on its way.
	ETA         string
	DeliveredOn string
}

// orderStatusTexts says each status to the user.
var orderStatusTexts = map[string]map[string]string{
	"preparing": texts("Hazırlanıyor", "Being prepared"),
	"shipped":   texts("Kargoya verildi", "Shipped"),
	"delivered": texts("Teslim edildi", "Delivered"),
	"cancelled": texts("İptal edildi", "Cancelled"),
}

// seedOrders returns the demo orders, dated around today.
func seedOrders(today time.Time) map[string]Order {
	day := func(offset int) string { return today.AddDate(0, 0, offset).Format(dateLayout) }
	list := []Order{
		{ID: "SP-2026-0001", Status: "shipped", Customer: "Ayşe Yılmaz", City: "İstanbul", Payment: "Kredi kartı (**** 4417)",
			Items: "Türk kahvesi makinesi, 2 × Türk kahvesi 250 g", Total: 124990,
			Carrier: "Yurtiçi Kargo", Tracking: "YK4816230957", PlacedOn: day(-3), ETA: day(1)},
		{ID: "SP-2026-0002", Status: "preparing", Customer: "Mehmet Demir", City: "Ankara", Payment: "Kredi kartı, 6 taksit (**** 2208)",
			Items: "55 inç 4K televizyon", Total: 1899900,
			Carrier: "Aras Kargo", PlacedOn: day(-1), ETA: day(4)},
		{ID: "SP-2026-0003", Status: "delivered", Customer: "Zeynep Kaya", City: "İzmir", Payment: "Kapıda ödeme",
			Items: "Çelik çaydanlık, 12 parça çay bardağı seti", Total: 68950,
			Carrier: "MNG Kargo", Tracking: "MNG70314482", PlacedOn: day(-9), DeliveredOn: day(-5)},
		{ID: "SP-2026-0004", Status: "cancelled", Customer: "Emre Çelik", City: "Bursa", Payment: "Kredi kartı (**** 0932)",
			Items: "Dikey şarjlı süpürge", Total: 749900, PlacedOn: day(-6)},
		{ID: "SP-2026-0005", Status: "shipped", Customer: "Elif Şahin", City: "Antalya", Payment: "Havale/EFT",
			Items: "Kablosuz kulaklık", Total: 189999,
			Carrier: "Sürat Kargo", Tracking: "SRT20260311458", PlacedOn: day(-2), ETA: day(2)},
		{ID: "SP-2026-0006", Status: "preparing", Customer: "Burak Aydın", City: "Kocaeli", Payment: "Kredi kartı (**** 6150)",
			Items: "Bulaşık makinesi (5 programlı)", Total: 1425000,
			Carrier: "Aras Kargo", PlacedOn: day(0), ETA: day(6)},
		{ID: "SP-2026-0007", Status: "delivered", Customer: "Selin Arslan", City: "Eskişehir", Payment: "Kredi kartı (**** 3391)",
			Items: "Airfryer 4,2 L, silikon pişirme kabı", Total: 334990,
			Carrier: "Yurtiçi Kargo", Tracking: "YK4790018823", PlacedOn: day(-14), DeliveredOn: day(-10)},
		{ID: "SP-2026-0008", Status: "shipped", Customer: "Can Öztürk", City: "İstanbul", Payment: "Kapıda ödeme",
			Items: "Çift kişilik nevresim takımı, 2 × yastık", Total: 112980,
			Carrier: "PTT Kargo", Tracking: "PTT7261049935", PlacedOn: day(-2), ETA: day(1)},
		{ID: "SP-2026-0009", Status: "preparing", Customer: "Hande Koç", City: "Gaziantep", Payment: "Havale/EFT",
			Items: "El blenderi seti, 3 × mutfak bezi", Total: 217470,
			Carrier: "MNG Kargo", PlacedOn: day(-1), ETA: day(3)},
		{ID: "SP-2026-0010", Status: "cancelled", Customer: "Oğuz Yıldız", City: "Trabzon", Payment: "Kredi kartı (**** 7702)",
			Items: "Robot süpürge", Total: 1199900, PlacedOn: day(-4)},
	}
	orders := make(map[string]Order, len(list))
	for _, o := range list {
		orders[o.ID] = o
	}
	return orders
}

// orderStatus is the order_status tool.
type orderStatus struct{ s *Store }

var _ tools.Tool = (*orderStatus)(nil)

func (*orderStatus) Spec() tools.Spec {
	return tools.Spec{
		Name: "order_status",
		Description: texts(
			"Sipariş numarasıyla (SP-2026-0001 gibi) bir siparişin durumunu, kargo firmasını, takip numarasını ve tahmini teslim tarihini getirir.",
			"Looks up an order by its number (like SP-2026-0001): its status, carrier, tracking number and expected delivery date.",
		),
		Parameters: json.RawMessage(`{
			"type": "object",
			"properties": {
				"order_id": {
					"type": "string",
					"pattern": "^SP-\\d{4}-\\d{4}$",
					"description": "Order number, like SP-2026-0001."
				}
			},
			"required": ["order_id"],
			"additionalProperties": false
		}`),
		Idempotent: true,
	}
}

func (t *orderStatus) Call(_ context.Context, args json.RawMessage) (tools.Result, error) {
	var in struct {
		OrderID string `json:"order_id"`
	}
	if err := json.Unmarshal(args, &in); err != nil {
		return tools.Result{}, tools.Invalid("", "cannot read the arguments: %v", err)
	}
	o, ok := t.s.orders[in.OrderID]
	if !ok {
		return tools.Result{}, tools.NotFound("no order %s", in.OrderID)
	}
	user := map[string]any{
		"order_id":    o.ID,
		"status":      o.Status,
		"status_text": maps.Clone(orderStatusTexts[o.Status]),
		"items":       o.Items,
		"total":       formatTL(o.Total),
	}
	for key, v := range map[string]string{
		"carrier":         o.Carrier,
		"tracking_number": o.Tracking,
		"eta":             o.ETA,
		"delivered_on":    o.DeliveredOn,
	} {
		if v != "" {
			user[key] = v
		}
	}
	return tools.Result{
		User: user,
		Agent: map[string]any{
			"customer_name":  o.Customer,
			"address_city":   o.City,
			"payment_method": o.Payment,
		},
	}, nil
}
