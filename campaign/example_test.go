package campaign_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/yanit/yanit/campaign"
	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/sqlite"
)

// Import a shop's contacts, then count the VIPs in İstanbul who may receive
// marketing messages.
func ExampleImportContacts() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "yanit-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "yanit.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}

	file := "phone,name,language,tags,consent,city\n" +
		"0532 123 45 67,Ayşe Yılmaz,tr,vip;istanbul,evet,İstanbul\n" +
		"+90 533 765 43 21,Mehmet Öz,tr,vip,hayır,İstanbul\n" +
		"0532 12,Yanlış Numara,tr,,,İzmir\n"
	res, err := campaign.ImportContacts(ctx, st, strings.NewReader(file), campaign.ImportOptions{Region: "TR"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d created, %d failed\n", res.Created, res.Failed)
	for _, e := range res.Errors {
		fmt.Println(e)
	}

	vip := store.SegmentFilter{Tags: []string{"vip"}, Attributes: map[string]string{"city": "İstanbul"},
		Consent: store.SegmentConsentMarketing}
	n, err := st.CountSegment(ctx, vip, time.Now())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n, "VIP in İstanbul open to marketing")
	// Output:
	// 2 created, 1 failed
	// line 4: phone "0532 12": not a valid number of region TR (write other countries' numbers with + and the country code)
	// 1 VIP in İstanbul open to marketing
}

// Make a campaign of an approved marketing template for a segment; a
// parameter missing for a placeholder is refused naming it.
func ExampleService_Create() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "yanit-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "yanit.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := st.PutSegment(ctx, store.Segment{Name: "istanbul-vip", Filter: store.SegmentFilter{Tags: []string{"vip"}}}); err != nil {
		fmt.Println(err)
		return
	}
	tmpl, err := inbox.NewTemplate("bahar_indirimi", "tr", "marketing", "Merhaba {{1}}, {{2}} mağazamızda indirim başladı!")
	if err != nil {
		fmt.Println(err)
		return
	}
	svc, err := campaign.NewService(st, campaign.Options{Templates: []inbox.Template{tmpl}, PhoneNumberID: "100000000000001"})
	if err != nil {
		fmt.Println(err)
		return
	}
	name, _ := campaign.ParseParam("name:Müşterimiz")
	city, _ := campaign.ParseParam("attr:city:İstanbul")
	spec := campaign.Spec{Name: "bahar", Template: "bahar_indirimi", Language: "tr", Segment: "istanbul-vip",
		Params: []store.CampaignParam{name}}
	if _, err := svc.Create(ctx, privacy.ActorCLI, spec); err != nil {
		fmt.Println(err)
	}
	spec.Params = append(spec.Params, city)
	c, err := svc.Create(ctx, privacy.ActorCLI, spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Name, c.Status, c.Category, c.Params[1])
	// Output:
	// invalid campaign: params: template "bahar_indirimi" has 2 placeholders ({{1}} to {{2}}), got 1 parameter(s)
	// bahar draft marketing attr:city:İstanbul
}
