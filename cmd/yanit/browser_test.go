package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yanit/yanit/channel/whatsapp/simulator/simbrowser"
	"github.com/yanit/yanit/store"
)

// screenshotEnv, when set, makes TestBrowserChatWithYanit save the final
// chat as docs/img/sim-chat.png (the picture in the docs).
const screenshotEnv = "YANIT_SCREENSHOT"

// TestBrowserChatWithYanit is what a developer does after `yanit dev`: open
// /sim in a browser, write to the demo assistant, tap a button, pick a list
// row, and watch the replies arrive and get read.
func TestBrowserChatWithYanit(t *testing.T) {
	a := startDev(t, "")
	// Opened after startDev, so the browser closes before yanit stops.
	p := simbrowser.Open(t)

	p.Load("http://" + a.addr.String() + "/sim")
	if phone := p.StartChat("Ayşe Yılmaz", "+90 532 123 45 67"); phone != "905321234567" {
		t.Errorf("the chat opened for %q, want 905321234567", phone)
	}
	hello := p.SendText("Merhaba")
	greeting := p.Business(1, "Ben Yanıt")
	if want := []string{"Siparişim nerede?", "Kart puanım", "Diğer konular"}; !slices.Equal(p.Buttons(greeting), want) {
		t.Errorf("greeting buttons %q, want %q", p.Buttons(greeting), want)
	}

	tap := p.TapButton("Diğer konular")
	list := p.Business(2, "Size nasıl yardımcı olabilirim?")
	if got := p.Text(list.Sel() + ` [data-testid="list-button"]`); !strings.HasSuffix(got, "Konular") {
		t.Errorf("list button %q", got)
	}
	p.OpenList()
	if want := []string{"Sipariş durumu", "Yanıt Kart puanım", "Servis randevusu al", "Randevumu iptal et",
		"Mağaza saatleri", "İade ve değişim", "Kargo ve teslimat", "Temsilciyle görüş"}; !slices.Equal(p.Rows(), want) {
		t.Errorf("list rows %q, want %q", p.Rows(), want)
	}
	pick := p.PickRow("Mağaza saatleri")
	hours := p.Business(3, "10:00'da açılır")

	// The page shows every reply read, and says so to yanit; yanit read
	// each of the user's messages (blue ticks).
	for _, b := range []simbrowser.Bubble{greeting, list, hours, hello, tap, pick} {
		p.WaitStatus(b, "read")
	}
	if n := p.Count(`[data-testid="message"][data-direction="business"]`); n != 3 {
		t.Errorf("%d replies on the page, want 3", n)
	}

	ctx := context.Background()
	convs, err := a.store.ListConversations(ctx, store.ConversationFilter{})
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations = %d (%v), want 1", len(convs), err)
	}
	waitReadInStore(t, a.store, convs[0].ID, []string{greeting.ID, list.ID, hours.ID})
	turns, err := a.store.ListTurns(ctx, convs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var intents []string
	for _, tr := range turns {
		intents = append(intents, tr.Intent)
	}
	if strings.Join(intents, ",") != "greeting,menu_more,store_hours" {
		t.Errorf("turn intents = %v, want greeting, menu_more, store_hours", intents)
	}

	if os.Getenv(screenshotEnv) != "" {
		// Tall enough for the whole chat, from "Merhaba" to the hours.
		p.Do("fit the chat in the window", chromedp.EmulateViewport(1280, 1000), simbrowser.Visible(`[data-testid="composer"]`))
		path := filepath.Join("..", "..", "docs", "img", "sim-chat.png")
		p.Screenshot(path)
		t.Logf("saved %s", path)
	}
}

// waitReadInStore waits until yanit recorded the read status of the
// outbound messages wamids.
func waitReadInStore(t *testing.T, st store.Store, conv int64, wamids []string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		msgs, err := st.ListMessages(context.Background(), conv)
		if err != nil {
			t.Fatal(err)
		}
		status := map[string]string{}
		for _, m := range msgs {
			if m.Direction == store.Outbound {
				status[m.ChannelMessageID] = m.Status
			}
		}
		read := 0
		for _, id := range wamids {
			if status[id] == store.StatusRead {
				read++
			}
		}
		if read == len(wamids) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d replies read in the store after 20 s: %v", read, len(wamids), status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
