package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yanit/yanit/channel/whatsapp/simulator/simbrowser"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/web"
)

// ask sends text as a WhatsApp user through yanit dev's simulator and
// returns the assistant's reply.
func ask(t *testing.T, a *app, text string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u := a.sim.User("Deniz Kaya", "+90 533 444 55 66")
	sent, err := u.SendText(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := u.NextReply(ctx, sent)
	if err != nil {
		t.Fatal(err)
	}
	return reply.Text()
}

// TestBrowserKnowledgeConsole is the content team's loop: a customer asks
// what the knowledge does not say; a content editor signs in to the
// console, sees the question among those the assistant could not answer,
// uploads a document that answers it, tries the search, and the assistant
// answers the next customer from it.
func TestBrowserKnowledgeConsole(t *testing.T) {
	a := startDevOwnAssistants(t)
	const question = "Mağazada otopark var mı?"
	if got := ask(t, a, question); !strings.Contains(got, "bulamadım") {
		t.Fatalf("before the upload the assistant answered %q, want that it found nothing", got)
	}

	hash, err := web.HashPassword("icerik-parola-2026")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.CreateUser(context.Background(), store.User{Login: "icerik", Name: "Elif Demir", Role: store.RoleContent, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(t.TempDir(), "otopark.md")
	if err := os.WriteFile(doc, []byte("# Otopark\n\nMağazalarımızın hepsinde müşterilerimize 2 saat ücretsiz otopark vardır.\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	p := simbrowser.Open(t)
	base := "http://" + a.addr.String()
	p.Do("opening the console, which asks to sign in",
		chromedp.Navigate(base+"/console/knowledge"),
		simbrowser.Visible(`input[name="login"]`))
	p.Do("signing in",
		simbrowser.Keys(`input[name="login"]`, "icerik"),
		simbrowser.Keys(`input[name="password"]`, "icerik-parola-2026"),
		simbrowser.Click(`button[type="submit"]`),
		simbrowser.Visible(`#documents table`))
	if who := p.Text(`.who span`); who != "Elif Demir · content" {
		t.Errorf("signed in as %q", who)
	}
	if docs := p.Text(`#documents tbody`); !strings.Contains(docs, "Kargo ve teslimat") || !strings.Contains(docs, "indexed") {
		t.Errorf("the documents list lacks the demo's delivery document:\n%s", docs)
	}

	p.Do("waiting for the unanswered questions", simbrowser.Visible(`#gaps[data-loaded="true"] table`))
	if gaps := p.Text(`#gaps tbody`); !strings.Contains(gaps, question) || !strings.Contains(gaps, "delivery_info") {
		t.Errorf("the unanswered questions lack %q under delivery_info:\n%s", question, gaps)
	}

	p.Do("uploading a document that answers it",
		chromedp.SetUploadFiles(chromedp.CSS(`#upload-form input[type="file"]`), []string{doc}),
		chromedp.SetValue(chromedp.CSS(`#upload-form input[name="collection"]`), "demo"),
		simbrowser.Keys(`#upload-form input[name="tags"]`, "delivery"),
		simbrowser.Click(`#upload-form button[type="submit"]`),
		simbrowser.Visible(`#upload-results li.ok`))
	if got := p.Text(`#upload-results li.ok`); !strings.Contains(got, "otopark.md: added") {
		t.Errorf("upload result %q", got)
	}

	p.Do("trying a search",
		simbrowser.Keys(`#search-form input[name="q"]`, "otopark ücretsiz mi"),
		simbrowser.Click(`#search-form button[type="submit"]`),
		simbrowser.Visible(`#hits li.hit`))
	if hit := p.Text(`#hits li.hit`); !strings.Contains(hit, "Otopark") || !strings.Contains(hit, "2 saat ücretsiz") {
		t.Errorf("first hit %q, want the uploaded document", hit)
	}

	if got := ask(t, a, question); !strings.Contains(got, "2 saat ücretsiz otopark") {
		t.Errorf("after the upload the assistant answered %q, want the uploaded passage", got)
	}

	p.Do("signing out", simbrowser.Click(`.who button`), simbrowser.Visible(`input[name="login"]`))
	p.Do("the console needs a new sign-in",
		chromedp.Navigate(base+"/console/knowledge"),
		simbrowser.Visible(`input[name="login"]`))
}
