package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/store"
)

func newKnowledgeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "knowledge",
		Short: "Ingest, list, search, delete and reindex the documents assistants answer from",
		Long: "knowledge manages the knowledge index in the store the config selects: the SQLite file\n" +
			"in data_dir, or PostgreSQL when YANIT_DATABASE_URL is set. Documents are embedded\n" +
			"with the configured provider (llm.provider), the local embedder by default.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newKnowledgeIngestCmd(g), newKnowledgeListCmd(g), newKnowledgeSearchCmd(g), newKnowledgeDeleteCmd(g),
		newKnowledgeReindexCmd(g))
	return cmd
}

// knowledgeIndex is the store and the knowledge index of the local
// commands, with the embedder the index uses; close releases the store.
type knowledgeIndex struct {
	st    store.Store
	index *knowledge.Stored
	embed knowledge.Embedder
	model string // the embedder's
	dims  int
}

// openKnowledge opens and migrates the store as yanit chat would and
// returns its index, embedding with the configured provider and logging
// only warnings.
func openKnowledge(ctx context.Context, g *globals) (*knowledgeIndex, error) {
	cfg, err := loadDevConfig(g)
	if err != nil {
		return nil, err
	}
	cfg.Log.Level = "warn"
	p, err := newProvider(cfg.LLM, newLogger(g.stderr, cfg.Log, cfg.Privacy))
	if err != nil {
		return nil, err
	}
	st, err := openAndMigrate(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &knowledgeIndex{st: st, index: knowledge.NewStored(st, p.embed, p.model, p.dims, knowledge.EmbedOptions{}),
		embed: p.embed, model: p.model, dims: p.dims}, nil
}

func (k *knowledgeIndex) close() { k.st.Close() }

// ingestFile is one file to ingest: where it is and the ID its document
// gets.
type ingestFile struct {
	path string // as found from the PATH argument
	id   string // slash-separated, without extension
}

// ingestFailure is a file that was not ingested, and why.
type ingestFailure struct {
	path string
	err  error
}

func newKnowledgeIngestCmd(g *globals) *cobra.Command {
	var collection string
	var tags []string
	var chunkTokens, overlap int
	cmd := &cobra.Command{
		Use:   "ingest PATH...",
		Short: "Parse, chunk, embed and store files and folders into a collection",
		Long: "ingest reads each PATH, a file or a folder (walked recursively, skipping names that\n" +
			"start with a dot), parses every file by its extension (.md, .markdown, .txt, .html,\n" +
			".htm, .csv, .docx, .pdf), splits it into chunks and stores it in --collection.\n\n" +
			"The document ID is the file's path relative to the PATH argument, with slashes and\n" +
			"without its extension: ingest docs/ stores docs/returns/policy.md as\n" +
			"\"returns/policy\"; a file argument's ID is its base name without extension\n" +
			"(ingest docs/faq.md stores \"faq\"). Ingesting a file again replaces the document of\n" +
			"that ID when it changed and leaves it alone when it did not. Two files of one run\n" +
			"with the same ID are an error for the second. --tags are added to the tags the file\n" +
			"sets itself.\n\n" +
			"A bad file never stops the batch: the summary on stdout counts the documents added,\n" +
			"replaced, unchanged and failed, and names every failed file with the reason.\n" +
			"It exits 1 when any file failed.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			if _, err := knowledge.Split(nil, chunkTokens, overlap); err != nil {
				return fmt.Errorf("--chunk-tokens %d, --overlap %d: %w", chunkTokens, overlap, err)
			}
			if strings.TrimSpace(collection) == "" {
				return errors.New("--collection: want a name")
			}
			files, failed := collectFiles(paths)
			k, err := openKnowledge(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer k.close()
			bar := progressbar.NewOptions(len(files),
				progressbar.OptionSetWriter(g.stderr),
				progressbar.OptionSetDescription("ingesting into "+collection),
				progressbar.OptionSetVisibility(isTerminal(g.stderr)),
				progressbar.OptionShowCount(),
				progressbar.OptionClearOnFinish(),
			)
			counts := map[knowledge.Change]int{}
			seen := map[string]string{} // ID → the file that took it
			for _, f := range files {
				if err := cmd.Context().Err(); err != nil {
					return err
				}
				if first, ok := seen[f.id]; ok {
					failed = append(failed, ingestFailure{f.path, fmt.Errorf("same document ID %q as %s", f.id, first)})
				} else {
					seen[f.id] = f.path
					change, err := ingestOne(cmd.Context(), k.index, f, collection, tags, chunkTokens, overlap)
					if err != nil {
						failed = append(failed, ingestFailure{f.path, err})
					} else {
						counts[change]++
					}
				}
				_ = bar.Add(1)
			}
			_ = bar.Finish()
			fmt.Fprintf(g.stdout, "%d added, %d replaced, %d unchanged, %d failed\n",
				counts[knowledge.Added], counts[knowledge.Replaced], counts[knowledge.Unchanged], len(failed))
			for _, f := range failed {
				fmt.Fprintf(g.stdout, "  failed %s: %v\n", f.path, f.err)
			}
			if len(failed) > 0 {
				return fmt.Errorf("knowledge ingest: %d file(s) failed", len(failed))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&collection, "collection", "default", "the collection the documents go into")
	cmd.Flags().StringSliceVar(&tags, "tags", nil, "tags added to every document, comma-separated")
	cmd.Flags().IntVar(&chunkTokens, "chunk-tokens", knowledge.DefaultChunkTokens, "the most estimated tokens a chunk holds")
	cmd.Flags().IntVar(&overlap, "overlap", knowledge.DefaultOverlapTokens, "the estimated tokens a chunk repeats of the one before")
	return cmd
}

// collectFiles lists the files of the PATH arguments, walking folders and
// skipping dot names below them; a path that cannot be read is a failure.
func collectFiles(paths []string) ([]ingestFile, []ingestFailure) {
	var files []ingestFile
	var failed []ingestFailure
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			failed = append(failed, ingestFailure{root, err})
			continue
		}
		if !info.IsDir() {
			files = append(files, ingestFile{path: root, id: withoutExt(filepath.Base(root))})
			continue
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				failed = append(failed, ingestFailure{path, err})
				return nil
			}
			if path != root && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				failed = append(failed, ingestFailure{path, err})
				return nil
			}
			files = append(files, ingestFile{path: path, id: withoutExt(filepath.ToSlash(rel))})
			return nil
		})
		if err != nil {
			failed = append(failed, ingestFailure{root, err})
		}
	}
	return files, failed
}

func withoutExt(name string) string { return strings.TrimSuffix(name, filepath.Ext(name)) }

// ingestOne reads one file and adds it (knowledge.AddFile).
func ingestOne(ctx context.Context, index *knowledge.Stored, f ingestFile, collection string, tags []string, budget, overlap int) (knowledge.Change, error) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return knowledge.Unchanged, err
	}
	_, change, err := knowledge.AddFile(ctx, index, f.path, data, knowledge.FileOptions{ID: f.id, Collection: collection,
		Source: filepath.ToSlash(f.path), Tags: tags, ChunkTokens: budget, OverlapTokens: overlap})
	return change, err
}

// isTerminal reports whether w is a character device: the progress bar
// draws only there.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func newKnowledgeListCmd(g *globals) *cobra.Command {
	var collection string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "The documents with their chunk counts, and the collections with their embedding model",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := openKnowledge(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer k.close()
			docs, err := k.st.ListDocuments(cmd.Context(), collection)
			if err != nil {
				return fmt.Errorf("listing documents: %w", err)
			}
			cols, err := k.st.ListCollections(cmd.Context())
			if err != nil {
				return fmt.Errorf("listing collections: %w", err)
			}
			if collection != "" {
				cols = slices.DeleteFunc(cols, func(c store.KnowledgeCollection) bool { return c.Name != collection })
			}
			w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "COLLECTION\tID\tTITLE\tLANGUAGE\tTAGS\tCHUNKS\tUPDATED")
			for _, d := range docs {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", d.Collection, d.ID, d.Title, orDash(d.Language),
					orDash(strings.Join(d.Tags, ",")), d.Chunks, d.UpdatedAt.UTC().Format(time.RFC3339))
			}
			fmt.Fprintln(w)
			fmt.Fprintln(w, "COLLECTION\tMODEL\tDIMENSIONS\tDOCUMENTS")
			for _, c := range cols {
				n := 0
				for _, d := range docs {
					if d.Collection == c.Name {
						n++
					}
				}
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\n", c.Name, c.Model, c.Dimensions, n)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&collection, "collection", "", "only this collection (default all)")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// hitJSON is a knowledge.Hit as search --json prints it.
type hitJSON struct {
	ChunkID    string           `json:"chunk_id"`
	DocumentID string           `json:"document_id"`
	Title      string           `json:"title"`
	Section    string           `json:"section"`
	Source     string           `json:"source"`
	Language   string           `json:"language"`
	Text       string           `json:"text"`
	Scores     knowledge.Scores `json:"scores"`
	Citation   string           `json:"citation"`
}

func newKnowledgeSearchCmd(g *globals) *cobra.Command {
	var q knowledge.Query
	var asJSON bool
	cmd := &cobra.Command{
		Use:   `search "QUERY"`,
		Short: "Search the index as an assistant would: hybrid vector and full-text ranking",
		Long: "search prints the best chunks for QUERY, best first: the citation, title › section,\n" +
			"the vector (cosine), text (full-text) and fused (reciprocal rank) scores and the\n" +
			"first 160 characters of the chunk. --json prints a JSON array of the hits instead\n" +
			"(chunk_id, document_id, title, section, source, language, text, scores{vector, text,\n" +
			"fused}, citation), [] when nothing matched.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if q.Limit < 1 {
				return fmt.Errorf("--limit %d: want at least 1", q.Limit)
			}
			k, err := openKnowledge(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer k.close()
			q.Text = pos[0]
			hits, err := k.index.Search(cmd.Context(), q)
			if err != nil {
				return fmt.Errorf("searching: %w", err)
			}
			if asJSON {
				out := make([]hitJSON, len(hits))
				for i, h := range hits {
					out[i] = hitJSON(h)
				}
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			if len(hits) == 0 {
				fmt.Fprintln(g.stdout, "no hits")
				return nil
			}
			for i, h := range hits {
				fmt.Fprintf(g.stdout, "%d. [%s] %s\n", i+1, h.Citation, hitHeading(h))
				fmt.Fprintf(g.stdout, "   vector %.3g  text %.3g  fused %.3g\n", h.Scores.Vector, h.Scores.Text, h.Scores.Fused)
				fmt.Fprintf(g.stdout, "   %s\n", excerpt(h.Text, 160))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&q.Collection, "collection", "", "only this collection (default all)")
	cmd.Flags().StringVar(&q.Language, "language", "", `only documents in this language ("tr", "en")`)
	cmd.Flags().StringSliceVar(&q.Tags, "tags", nil, "only documents with every one of these tags, comma-separated")
	cmd.Flags().IntVar(&q.Limit, "limit", 5, "the number of hits")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the hits as a JSON array")
	return cmd
}

// hitHeading is "title › section", without the section's first heading
// when it is the title (a Markdown document's level-1 heading).
func hitHeading(h knowledge.Hit) string {
	section := h.Section
	if rest, ok := strings.CutPrefix(section, h.Title); ok && (rest == "" || strings.HasPrefix(rest, " > ")) {
		section = strings.TrimPrefix(rest, " > ")
	}
	if section == "" {
		return h.Title
	}
	return h.Title + " › " + section
}

// excerpt is the first n characters of text on one line, "…" marking a
// cut.
func excerpt(text string, n int) string {
	r := []rune(strings.Join(strings.Fields(text), " "))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n]) + "…"
}

func newKnowledgeDeleteCmd(g *globals) *cobra.Command {
	var collection string
	cmd := &cobra.Command{
		Use:   "delete --collection NAME ID...",
		Short: "Delete documents and their chunks from a collection",
		Long: "delete removes each ID (as ingest and list show it) from --collection. An ID the\n" +
			"collection does not hold is an error naming it, after the others are deleted;\n" +
			"it then exits 1.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, ids []string) error {
			k, err := openKnowledge(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer k.close()
			var errs []error
			for _, id := range ids {
				err := k.index.Delete(cmd.Context(), collection, id)
				switch {
				case errors.Is(err, store.ErrNotFound):
					errs = append(errs, fmt.Errorf("no document %q in collection %q", id, collection))
				case err != nil:
					errs = append(errs, fmt.Errorf("deleting %q: %w", id, err))
				default:
					fmt.Fprintf(g.stdout, "deleted %s/%s\n", collection, id)
				}
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().StringVar(&collection, "collection", "", "the collection the documents are in")
	_ = cmd.MarkFlagRequired("collection")
	return cmd
}

func newKnowledgeReindexCmd(g *globals) *cobra.Command {
	var collection string
	cmd := &cobra.Command{
		Use:   "reindex [--collection NAME]",
		Short: "Embed collections again with the configured embedding model",
		Long: "reindex embeds every chunk of --collection, or of every collection when it is not\n" +
			"given, with the configured embedder (llm.provider, llm.embedding_model and\n" +
			"llm.embedding_dimensions; the local one by default) and records its model in the\n" +
			"collection: run it after changing the embedding model, when ingest says to. The\n" +
			"documents, their chunks and tags stay as they are; files ingested again unchanged\n" +
			"are then unchanged. A collection already on the model is embedded again too.\n\n" +
			"Each collection is embedded first, then replaced whole in one transaction: searches\n" +
			"see its old index until then, and a failure leaves it as it was. Restart the\n" +
			"processes serving it with the new configuration. The summary on stdout counts the\n" +
			"collections reindexed and failed, the documents and chunks embedded, and names\n" +
			"every failed collection with the reason. It exits 1 when any collection failed.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			k, err := openKnowledge(ctx, g)
			if err != nil {
				return err
			}
			defer k.close()
			cols, err := k.st.ListCollections(ctx)
			if err != nil {
				return fmt.Errorf("listing collections: %w", err)
			}
			names := make([]string, len(cols))
			for i, c := range cols {
				names[i] = c.Name
			}
			if collection != "" {
				names = []string{collection}
			}
			var (
				done              []knowledge.ReindexResult
				failed            []reindexFailure
				documents, chunks int
			)
			for _, name := range names {
				if err := ctx.Err(); err != nil {
					return err
				}
				res, err := reindexOne(ctx, g, k, name)
				if err != nil {
					failed = append(failed, reindexFailure{name, err})
					continue
				}
				done = append(done, res)
				documents += res.Documents
				chunks += res.Chunks
			}
			fmt.Fprintf(g.stdout, "%d reindexed, %d failed: %d documents, %d chunks embedded with %s (%d dims)\n",
				len(done), len(failed), documents, chunks, k.model, k.dims)
			for _, r := range done {
				fmt.Fprintf(g.stdout, "  %s: %d documents, %d chunks; was %s (%d dims)\n",
					r.Collection.Name, r.Documents, r.Chunks, r.Previous.Model, r.Previous.Dimensions)
			}
			for _, f := range failed {
				fmt.Fprintf(g.stdout, "  failed %s: %v\n", f.collection, f.err)
			}
			if len(failed) > 0 {
				return fmt.Errorf("knowledge reindex: %d collection(s) failed", len(failed))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&collection, "collection", "", "only this collection (default all)")
	return cmd
}

// reindexFailure is a collection that was not reindexed, and why.
type reindexFailure struct {
	collection string
	err        error
}

// reindexOne reindexes a collection with the configured embedder, drawing a
// progress bar of its chunks.
func reindexOne(ctx context.Context, g *globals, k *knowledgeIndex, collection string) (knowledge.ReindexResult, error) {
	docs, err := k.st.ListDocuments(ctx, collection)
	if err != nil {
		return knowledge.ReindexResult{}, err
	}
	total := 0
	for _, d := range docs {
		total += d.Chunks
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(g.stderr),
		progressbar.OptionSetDescription("reindexing "+collection),
		progressbar.OptionSetVisibility(isTerminal(g.stderr)),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
	)
	e := progressEmbedder{Embedder: k.embed, bar: bar}
	res, err := knowledge.Reindex(ctx, k.st, e, k.model, k.dims, collection, knowledge.EmbedOptions{})
	_ = bar.Finish()
	return res, err
}

// progressEmbedder moves a progress bar by the texts each of its calls
// embedded.
type progressEmbedder struct {
	knowledge.Embedder
	bar *progressbar.ProgressBar
}

func (p progressEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	vecs, err := p.Embedder.Embed(ctx, texts)
	if err == nil {
		_ = p.bar.Add(len(texts))
	}
	return vecs, err
}
