package server

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// The API description is kept in parts: openapi.json holds the document and most routes,
// openapi_journal.json the paths and schemas of journals, supervision and practice,
// openapi_rooms.json those of the dialogue rooms (their websocket included),
// openapi_consent.json those of consent and quoting, openapi_award.json those of the awards
// and the verification of certificates, openapi_progress.json those of progress towards the
// award, openapi_board.json those of the exam boards and the training record,
// openapi_marking.json those of assessed work. A test checks the merged document against
// the router.
var (
	//go:embed openapi.json
	openAPIBase []byte
	//go:embed openapi_journal.json
	openAPIJournal []byte
	//go:embed openapi_rooms.json
	openAPIRooms []byte
	//go:embed openapi_consent.json
	openAPIConsent []byte
	//go:embed openapi_award.json
	openAPIAward []byte
	//go:embed openapi_progress.json
	openAPIProgress []byte
	//go:embed openapi_board.json
	openAPIBoard []byte
	//go:embed openapi_marking.json
	openAPIMarking []byte
)

var openAPIDoc = func() []byte {
	doc, err := mergeOpenAPI(openAPIBase, openAPIJournal, openAPIRooms, openAPIConsent, openAPIAward, openAPIProgress, openAPIBoard, openAPIMarking)
	if err != nil {
		panic(err) // both parts are compiled in; a test reads the merged document
	}
	return doc
}()

// mergeOpenAPI adds the paths and components of each part to the base document. A path or
// a component named twice is an error, so that no part silently replaces another.
func mergeOpenAPI(base []byte, parts ...[]byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	for i, raw := range parts {
		var part map[string]any
		if err := json.Unmarshal(raw, &part); err != nil {
			return nil, fmt.Errorf("openapi part %d: %w", i+1, err)
		}
		if err := mergeInto(doc, "paths", part["paths"]); err != nil {
			return nil, err
		}
		comps, _ := part["components"].(map[string]any)
		for kind, v := range comps {
			dc, _ := doc["components"].(map[string]any)
			if dc == nil {
				dc = map[string]any{}
				doc["components"] = dc
			}
			if err := mergeInto(dc, kind, v); err != nil {
				return nil, err
			}
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}

func mergeInto(into map[string]any, key string, v any) error {
	add, _ := v.(map[string]any)
	if len(add) == 0 {
		return nil
	}
	have, _ := into[key].(map[string]any)
	if have == nil {
		have = map[string]any{}
		into[key] = have
	}
	for k, val := range add {
		if _, dup := have[k]; dup {
			return fmt.Errorf("openapi: %s %q is described twice", key, k)
		}
		have[k] = val
	}
	return nil
}

func (s *Server) openAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/json", openAPIDoc)
}
