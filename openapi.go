package auth

import (
	_ "embed"
	"net/http"
	"slices"
)

// openAPIDocument describes every endpoint of [Authenticator.Handler]. It is
// kept as a JSON file, not generated, so that a change to the HTTP contract
// shows up in review as a change to the document; the tests check each
// endpoint's real requests and responses against it.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the OpenAPI 3.1 document that [Authenticator.Handler]
// serves at GET /auth/openapi.json, as JSON. Each call returns a new copy.
//
// The document's paths start with /auth/ and its one server is "/", which
// fits a handler mounted at the root of the server. When the handler is
// mounted under a prefix with [http.StripPrefix], serve a copy with the
// prefix as the server URL and in the OAuth2 flow's tokenUrl and refreshUrl,
// or merge the paths into your own API description.
func OpenAPI() []byte {
	return slices.Clone(openAPIDocument)
}

// openAPI serves the document. It is the same for every Authenticator and
// every request, so caches may keep it.
func (h *handler) openAPI(w http.ResponseWriter, _ *http.Request) error {
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "public, max-age=3600")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIDocument)
	return nil
}
