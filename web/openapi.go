package web

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDocument is the OpenAPI 3.1 document of every route but the
// console's pages, written by hand; openapi_test.go fails when it and the
// routes drift apart.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPI serves the document at GET /api/v1/openapi.json, without
// authentication: it describes the routes and holds no data. Its
// info.version is the build's version when the server knows it.
func (s *Server) openAPI() gin.HandlerFunc {
	doc, err := withVersion(openAPIDocument, s.version)
	if err != nil {
		// openapi_test.go checks the embedded document: this cannot fail.
		panic(err)
	}
	return func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json; charset=utf-8", doc)
	}
}

// withVersion returns doc with info.version set to version; doc as is when
// version is empty.
func withVersion(doc []byte, version string) ([]byte, error) {
	if version == "" {
		return doc, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, fmt.Errorf("reading the OpenAPI document: %w", err)
	}
	var info map[string]json.RawMessage
	if err := json.Unmarshal(top["info"], &info); err != nil {
		return nil, fmt.Errorf("reading the OpenAPI document's info: %w", err)
	}
	info["version"], _ = json.Marshal(version)
	var err error
	if top["info"], err = json.Marshal(info); err != nil {
		return nil, fmt.Errorf("writing the OpenAPI document's info: %w", err)
	}
	return json.MarshalIndent(top, "", "  ")
}
