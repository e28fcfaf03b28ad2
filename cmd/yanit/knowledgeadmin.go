package main

import (
	"context"

	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/web"
)

// knowledgeAdmin is the knowledge index of the admin API and the console:
// the store's, embedding with the configured provider.
type knowledgeAdmin struct {
	*knowledge.Stored
	st store.Store
	p  models
}

var _ web.KnowledgeAdmin = knowledgeAdmin{}

func newKnowledgeAdmin(st store.Store, p models) knowledgeAdmin {
	return knowledgeAdmin{Stored: knowledge.NewStored(st, p.embed, p.model, p.dims, knowledge.EmbedOptions{}), st: st, p: p}
}

func (k knowledgeAdmin) Model() string { return k.p.model }

// Reindex reindexes the collection, or every collection when it is "".
func (k knowledgeAdmin) Reindex(ctx context.Context, collection string) (documents, chunks int, err error) {
	names := []string{collection}
	if collection == "" {
		cs, err := k.st.ListCollections(ctx)
		if err != nil {
			return 0, 0, err
		}
		names = names[:0]
		for _, c := range cs {
			names = append(names, c.Name)
		}
	}
	for _, name := range names {
		res, err := knowledge.Reindex(ctx, k.st, k.p.embed, k.p.model, k.p.dims, name, knowledge.EmbedOptions{})
		if err != nil {
			return documents, chunks, err
		}
		documents, chunks = documents+res.Documents, chunks+res.Chunks
	}
	return documents, chunks, nil
}
