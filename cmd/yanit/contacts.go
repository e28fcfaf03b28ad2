package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/yanit/yanit/campaign"
	"github.com/yanit/yanit/store"
)

func newContactsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contacts",
		Short: "Import contacts from CSV files",
		Long: "contacts manages the end users campaigns reach, in the store the config selects (the\n" +
			"SQLite file in data_dir, or PostgreSQL when YANIT_DATABASE_URL is set).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newContactsImportCmd(g))
	return cmd
}

func newContactsImportCmd(g *globals) *cobra.Command {
	var region string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import contacts from a CSV file; importing again updates them",
		Long: "import reads FILE (- for stdin), a CSV file whose first row names the columns:\n\n" +
			"  phone     required; \"0532 123 45 67\", \"+90 532 123 45 67\" and \"905321234567\" are one\n" +
			"            number (E.164 +905321234567); numbers without a country code are of --region\n" +
			"  name      the contact's name\n" +
			"  language  a language tag: tr, en, en-GB\n" +
			"  tags      tags separated by ; or |, replacing the contact's (an empty cell clears them)\n" +
			"  consent   marketing consent: yes, no (evet, hayır) or empty; no opts the contact out of\n" +
			"            marketing messages; yes never resumes a contact who opted out\n" +
			"  any other column is an attribute of that name (an empty cell removes it)\n\n" +
			"Fields are separated by , or ; (as spreadsheets in Turkish write them) or tabs, told\n" +
			"apart by the header. A contact is its number: importing a file again updates the\n" +
			"contacts and never duplicates them; what a row leaves empty stays as it was.\n\n" +
			"A bad row never stops the import: the summary on stdout counts the contacts created,\n" +
			"updated, unchanged and failed, and names every failed line with the reason. It exits 1\n" +
			"when any line failed.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, size, err := openInput(cmd, args[0])
			if err != nil {
				return err
			}
			defer in.Close()
			return withStore(cmd.Context(), g, func(st store.Store) error {
				bar := progressbar.NewOptions64(size,
					progressbar.OptionSetWriter(g.stderr),
					progressbar.OptionSetDescription("importing "+filepath.Base(args[0])),
					progressbar.OptionSetVisibility(isTerminal(g.stderr)),
					progressbar.OptionShowBytes(true),
					progressbar.OptionClearOnFinish(),
				)
				res, err := campaign.ImportContacts(cmd.Context(), st, io.TeeReader(in, bar), campaign.ImportOptions{Region: region})
				_ = bar.Finish()
				if res.Rows > 0 || err == nil {
					printImport(g.stdout, res)
				}
				switch {
				case err != nil:
					return err
				case res.Failed > 0:
					return fmt.Errorf("contacts import: %d line(s) failed", res.Failed)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&region, "region", campaign.DefaultRegion, "the region (ISO 3166) of numbers written without a country code")
	return cmd
}

// openInput opens the file at path, or stdin for "-", and returns its size
// for the progress bar: -1 when unknown.
func openInput(cmd *cobra.Command, path string) (io.ReadCloser, int64, error) {
	if path == "-" {
		return io.NopCloser(cmd.InOrStdin()), -1, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if info.IsDir() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is a directory: want a CSV file", path)
	}
	return f, info.Size(), nil
}

func printImport(w io.Writer, res campaign.ImportResult) {
	fmt.Fprintf(w, "%d created, %d updated, %d unchanged, %d failed\n", res.Created, res.Updated, res.Unchanged, res.Failed)
	if res.OptOutsKept > 0 {
		fmt.Fprintf(w, "%d consent \"yes\" not applied: the contact opted out of marketing messages, and only they can resume\n",
			res.OptOutsKept)
	}
	for _, e := range res.Errors {
		fmt.Fprintf(w, "  %v\n", e)
	}
}

func newSegmentsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "segments",
		Short: "Save, list, preview and delete segments: the contacts a campaign is sent to",
		Long: "segments manages saved filters over the contacts, in the store the config selects. A\n" +
			"segment's members are found when it is used, so contacts imported or tagged later join\n" +
			"it. Preview one before a campaign uses it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newSegmentsPutCmd(g), newSegmentsListCmd(g), newSegmentsPreviewCmd(g), newSegmentsDeleteCmd(g))
	return cmd
}

func newSegmentsPutCmd(g *globals) *cobra.Command {
	var tags, anyTags, attrs []string
	var consent, activeWithin, inactiveFor, locale, description string
	cmd := &cobra.Command{
		Use:   "put NAME",
		Short: "Save a segment, replacing the one of that name",
		Long: "put saves the segment NAME with the filter its flags make; a contact is a member when it\n" +
			"passes every flag given (none: every contact). Putting a name again replaces its filter\n" +
			"and description. Tags, attribute names and values compare exactly (case matters).\n\n" +
			"Example:\n" +
			"  yanit segments put vip-istanbul --tag vip --attr city=İstanbul --consent marketing \\\n" +
			"    --active-within 30d --locale tr",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s := store.Segment{Name: args[0], Description: description, Filter: store.SegmentFilter{
				Tags: tags, AnyTags: anyTags, Consent: consent, Locale: locale}}
			var err error
			if s.Filter.Attributes, err = parseAttrs(attrs); err != nil {
				return err
			}
			if s.Filter.ActiveWithinDays, err = parseDays("--active-within", activeWithin); err != nil {
				return err
			}
			if s.Filter.InactiveForDays, err = parseDays("--inactive-for", inactiveFor); err != nil {
				return err
			}
			if err := s.Validate(); err != nil {
				return err
			}
			return withStore(cmd.Context(), g, func(st store.Store) error {
				saved, err := st.PutSegment(cmd.Context(), s)
				if err != nil {
					return err
				}
				n, err := st.CountSegment(cmd.Context(), saved.Filter, time.Now())
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "saved segment %s (%s): %d contact(s) match now\n", saved.Name, describeFilter(saved.Filter), n)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&tags, "tag", nil, "a tag members have; repeat for all of several")
	f.StringArrayVar(&anyTags, "any-tag", nil, "a tag of which members have at least one; repeat for more")
	f.StringArrayVar(&attrs, "attr", nil, "NAME=VALUE, an attribute value members have; repeat for more")
	f.StringVar(&consent, "consent", "", "marketing: only contacts who may receive marketing messages")
	f.StringVar(&activeWithin, "active-within", "", "DAYS (30 or 30d): contacts who wrote within that many days")
	f.StringVar(&inactiveFor, "inactive-for", "", "DAYS (90 or 90d): contacts who did not write for that many days, or never")
	f.StringVar(&locale, "locale", "", "a language tag (tr, en-GB) the contact's language is or starts with")
	f.StringVar(&description, "description", "", "what the segment is for")
	return cmd
}

// parseAttrs reads --attr NAME=VALUE flags.
func parseAttrs(flags []string) (map[string]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	attrs := make(map[string]string, len(flags))
	for _, kv := range flags {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--attr %q: want NAME=VALUE", kv)
		}
		if _, dup := attrs[k]; dup {
			return nil, fmt.Errorf("--attr %q: %s is given twice", kv, k)
		}
		attrs[k] = v
	}
	return attrs, nil
}

// parseDays reads a number of days, "30" or "30d"; "" is 0 (no window).
func parseDays(flag, s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s %q: want a number of days, such as 30d or 30", flag, s)
	}
	return n, nil
}

// describeFilter says in a line what f selects.
func describeFilter(f store.SegmentFilter) string {
	if f.IsZero() {
		return "every contact"
	}
	var parts []string
	if len(f.Tags) > 0 {
		parts = append(parts, "tags "+strings.Join(f.Tags, " and "))
	}
	if len(f.AnyTags) > 0 {
		parts = append(parts, "any tag of "+strings.Join(f.AnyTags, ", "))
	}
	for _, k := range slices.Sorted(maps.Keys(f.Attributes)) {
		parts = append(parts, k+"="+f.Attributes[k])
	}
	if f.Consent != "" {
		parts = append(parts, "consent "+f.Consent)
	}
	if f.ActiveWithinDays > 0 {
		parts = append(parts, fmt.Sprintf("active within %dd", f.ActiveWithinDays))
	}
	if f.InactiveForDays > 0 {
		parts = append(parts, fmt.Sprintf("inactive for %dd", f.InactiveForDays))
	}
	if f.Locale != "" {
		parts = append(parts, "locale "+f.Locale)
	}
	return strings.Join(parts, "; ")
}

func newSegmentsListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the segments with their filters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), g, func(st store.Store) error {
				segs, err := st.ListSegments(cmd.Context())
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "NAME\tFILTER\tDESCRIPTION\tUPDATED")
				for _, s := range segs {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Name, describeFilter(s.Filter), s.Description,
						s.UpdatedAt.Local().Format(time.DateTime))
				}
				return w.Flush()
			})
		},
	}
}

func newSegmentsPreviewCmd(g *globals) *cobra.Command {
	var sample int
	cmd := &cobra.Command{
		Use:   "preview NAME",
		Short: "Count a segment's contacts now and show a sample, phone numbers masked",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := store.CheckSampleLimit(sample); err != nil {
				return fmt.Errorf("--sample: %w", err)
			}
			return withStore(cmd.Context(), g, func(st store.Store) error {
				ctx := cmd.Context()
				s, err := segmentByName(cmd, st, args[0])
				if err != nil {
					return err
				}
				now := time.Now()
				n, err := st.CountSegment(ctx, s.Filter, now)
				if err != nil {
					return err
				}
				members, err := st.SampleSegment(ctx, s.Filter, now, sample)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "segment %s (%s): %d contact(s)\n", s.Name, describeFilter(s.Filter), n)
				if len(members) == 0 {
					return nil
				}
				fmt.Fprintf(g.stdout, "a sample of %d:\n", len(members))
				w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "PHONE\tNAME\tLANGUAGE\tTAGS\tMARKETING\tLAST MESSAGE")
				for _, c := range members {
					marketing, last := "yes", "never"
					if c.MarketingOptOut {
						marketing = "opted out"
					}
					if !c.LastInboundAt.IsZero() {
						last = c.LastInboundAt.Local().Format(time.DateOnly)
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", maskPhone(c.WaID), c.Name, c.Locale,
						strings.Join(c.Tags, ","), marketing, last)
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().IntVar(&sample, "sample", 10, fmt.Sprintf("how many contacts to show, 1 to %d", store.MaxSegmentSample))
	return cmd
}

// maskPhone shows a wa_id (E.164 digits) with every digit but the last four
// hidden: +********4567. A contact without one shows "-".
func maskPhone(waID string) string {
	const shown = 4
	if waID == "" {
		return "-"
	}
	if len(waID) <= shown {
		return "+" + strings.Repeat("*", len(waID))
	}
	return "+" + strings.Repeat("*", len(waID)-shown) + waID[len(waID)-shown:]
}

func newSegmentsDeleteCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a segment (its contacts stay)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd.Context(), g, func(st store.Store) error {
				err := st.DeleteSegment(cmd.Context(), args[0])
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no segment %q (yanit segments list shows them)", args[0])
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "deleted segment %s\n", args[0])
				return nil
			})
		},
	}
}

// segmentByName finds a segment or says there is none.
func segmentByName(cmd *cobra.Command, st store.Store, name string) (store.Segment, error) {
	s, err := st.GetSegment(cmd.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return s, fmt.Errorf("no segment %q (yanit segments list shows them)", name)
	}
	return s, err
}
