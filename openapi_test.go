package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// The contract test drives the real handler through the success and error
// cases of every endpoint and checks each request and response against the
// served OpenAPI document, so that the document cannot drift from the code:
//   - every response must match a documented status of its operation, with
//     its headers and body schema;
//   - every request must be accepted by the document exactly when the test
//     says it is well-formed (a request the handler rejects with 413 can be
//     well-formed; one it rejects with 422 is not);
//   - every documented operation and every status it documents must be
//     produced at least once.

// errBroken is a store failure that is not an outage: the handlers answer 500.
var errBroken = errors.New("pq: relation \"users\" does not exist")

// contract is the served OpenAPI document, ready to check exchanges with.
type contract struct {
	doc    *openapi3.T
	router routers.Router
	// seen records the statuses produced, by operation ("POST
	// /auth/sessions/{id}") or by routing response ("NotFound").
	seen map[string]map[int]bool
}

// loadContract fetches the document from h, loads and validates it.
func loadContract(t *testing.T, h http.Handler) *contract {
	t.Helper()
	r := do(h, http.MethodGet, "/auth/openapi.json", "", "")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /auth/openapi.json: %d, Content-Type %q", r.status, r.header.Get("Content-Type"))
	}
	ctx := context.Background()
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromData(r.body)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(ctx, openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	// Validate leaves the JSON Schema "examples" of schemas alone.
	for name, ref := range doc.Components.Schemas {
		checkSchemaExamples(t, "#/components/schemas/"+name, ref.Value)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return &contract{doc: doc, router: router, seen: map[string]map[int]bool{}}
}

// checkSchemaExamples checks the "examples" of s and of its properties and
// items against their schemas.
func checkSchemaExamples(t *testing.T, at string, s *openapi3.Schema) {
	t.Helper()
	for _, ex := range s.Examples {
		if err := s.VisitJSON(ex, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s: example %v: %v", at, ex, err)
		}
	}
	for name, p := range s.Properties {
		checkSchemaExamples(t, at+"/properties/"+name, p.Value)
	}
	if s.Items != nil {
		checkSchemaExamples(t, at+"/items", s.Items.Value)
	}
}

// call is one request. The handler and the validator each get their own copy,
// since validation reads the body.
type call struct {
	method, path, contentType, body string
	header                          []string // name, value pairs
	remoteAddr                      string
}

func (c call) request() *http.Request {
	req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	for i := 0; i+1 < len(c.header); i += 2 {
		req.Header.Add(c.header[i], c.header[i+1])
	}
	if c.remoteAddr != "" {
		req.RemoteAddr = c.remoteAddr
	}
	return req
}

// Request shapes used below.
func get(path string, header ...string) call {
	return call{method: http.MethodGet, path: path, header: header}
}

func post(path, contentType, body string, header ...string) call {
	return call{method: http.MethodPost, path: path, contentType: contentType, body: body, header: header}
}

func postJ(path, body string, header ...string) call { return post(path, ctJSON, body, header...) }

func del(path string, header ...string) call {
	return call{method: http.MethodDelete, path: path, header: header}
}

// bearerScheme is the test's AuthenticationFunc for the security schemes:
// the document's requirement holds when there is one Authorization header
// with the Bearer scheme (the DPoP scheme for DPoP) and a token. Whether the token is good is the
// handler's business, and shows in the response.
func bearerScheme(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	vals := in.RequestValidationInput.Request.Header.Values("Authorization")
	if len(vals) != 1 {
		return in.NewError(errors.New("want one Authorization header"))
	}
	scheme, token, _ := strings.Cut(vals[0], " ")
	want := "Bearer"
	if in.SecuritySchemeName == "DPoP" {
		want = "DPoP"
	}
	if !strings.EqualFold(scheme, want) || strings.TrimSpace(token) == "" {
		return in.NewError(errors.New("not a bearer token"))
	}
	return nil
}

var filterOptions = &openapi3filter.Options{
	AuthenticationFunc:    bearerScheme,
	IncludeResponseStatus: true, // an undocumented status is an error
	SkipSettingDefaults:   true,
	MultiError:            true,
}

// check sends c to h and checks the exchange against the document: the
// operation exists, the document accepts the request exactly when wellFormed,
// the status is want, and the response matches what the document says of
// that status.
func (ct *contract) check(t *testing.T, h http.Handler, c call, wellFormed bool, want int) response {
	t.Helper()
	ctx := context.Background()
	vreq := c.request()
	route, params, err := ct.router.FindRoute(vreq)
	if err != nil {
		t.Fatalf("%s %s: not in the document: %v", c.method, c.path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: filterOptions}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	switch {
	case wellFormed && reqErr != nil:
		t.Errorf("%s %s %q: the document rejects a well-formed request: %v", c.method, c.path, c.body, reqErr)
	case !wellFormed && reqErr == nil:
		t.Errorf("%s %s %q: the document accepts a malformed request", c.method, c.path, c.body)
	}

	r := serve(h, c.request())
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", c.method, c.path, r.status, want, r.body)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 r.status,
		Header:                 r.header,
		Options:                filterOptions,
	}
	out.SetBodyBytes(r.body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("%s %s: response %d %s does not match the document: %v", c.method, c.path, r.status, r.body, err)
	}
	ct.record(route.Method+" "+route.Path, r.status)
	return r
}

// checkRouting sends c, which no operation of the document matches, and
// checks the response against the document's NotFound or MethodNotAllowed
// response. The router must agree that the path, or the method, is missing.
func (ct *contract) checkRouting(t *testing.T, h http.Handler, c call, want int) {
	t.Helper()
	name, wantErr := "NotFound", routers.ErrPathNotFound
	if want == http.StatusMethodNotAllowed {
		name, wantErr = "MethodNotAllowed", routers.ErrMethodNotAllowed
	}
	vreq := c.request()
	if _, _, err := ct.router.FindRoute(vreq); err != wantErr {
		t.Errorf("%s %s: router says %v, want %v", c.method, c.path, err, wantErr)
	}
	r := serve(h, c.request())
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", c.method, c.path, r.status, want, r.body)
	}
	ref := ct.doc.Components.Responses[name]
	if ref == nil {
		t.Fatalf("no components.responses.%s", name)
	}
	route := &routers.Route{
		Spec: ct.doc, Path: c.path, Method: c.method,
		Operation: &openapi3.Operation{Responses: openapi3.NewResponses(openapi3.WithStatus(want, ref))},
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, Route: route},
		Status:                 r.status,
		Header:                 r.header,
		Options:                filterOptions,
	}
	out.SetBodyBytes(r.body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s: response %d %s does not match %s: %v", c.method, c.path, r.status, r.body, name, err)
	}
	ct.record(name, r.status)
}

func (ct *contract) record(key string, status int) {
	if ct.seen[key] == nil {
		ct.seen[key] = map[int]bool{}
	}
	ct.seen[key][status] = true
}

// checkCoverage fails for every documented operation, and every status it
// documents, that the test never produced.
func (ct *contract) checkCoverage(t *testing.T) {
	t.Helper()
	for path, item := range ct.doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			var missing []string
			for code := range op.Responses.Map() {
				status, err := strconv.Atoi(code)
				if err != nil {
					t.Errorf("%s documents response %q; use explicit status codes", key, code)
					continue
				}
				if !ct.seen[key][status] {
					missing = append(missing, code)
				}
			}
			sort.Strings(missing)
			switch {
			case len(ct.seen[key]) == 0:
				t.Errorf("%s is documented but never exercised", key)
			case len(missing) > 0:
				t.Errorf("%s: documented statuses never produced: %v", key, missing)
			}
		}
	}
	for _, name := range []string{"NotFound", "MethodNotAllowed"} {
		if len(ct.seen[name]) == 0 {
			t.Errorf("routing response %s never produced", name)
		}
	}
}

func multipartBody(boundary string, fields ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(fields); i += 2 {
		fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", boundary, fields[i], fields[i+1])
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.String()
}

func TestOpenAPIContract(t *testing.T) {
	clock := newClock()
	store := newDownStore()
	a, err := auth.New(store, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	h := a.Handler()
	ct := loadContract(t, h)
	ctx := context.Background()

	// Users: mia does everything; nell gets disabled; olga owns a session
	// that mia must not see.
	for _, name := range []string{"nell", "olga"} {
		if _, err := a.Register(ctx, name, "password-1"); err != nil {
			t.Fatal(err)
		}
	}
	big := strings.Repeat("x", 70<<10)
	const well, malformed = true, false

	var mia auth.TokenPair
	t.Run("register", func(t *testing.T) {
		r := ct.check(t, h, postJ("/auth/register", `{"username":"Mia","password":"password-1","extra":1}`), well, 201)
		if r.json(t)["username"] != "mia" {
			t.Errorf("body %s", r.body)
		}
		ct.check(t, h, postJ("/auth/register", `{"username":"MIA","password":"password-2"}`), well, 409)
		ct.check(t, h, postJ("/auth/register", `{"username":"mi","password":"short"}`), malformed, 422)
		ct.check(t, h, postJ("/auth/register", `{"username":"pia"}`), malformed, 422)
		ct.check(t, h, postJ("/auth/register", `{"username":"pia","password":12345678}`), malformed, 422)
		ct.check(t, h, postJ("/auth/register", `["pia","password-1"]`), malformed, 422)
		ct.check(t, h, postJ("/auth/register", `{"username":`), malformed, 422)
		ct.check(t, h, post("/auth/register", "text/plain", `{"username":"pia","password":"password-1"}`), malformed, 415)
		ct.check(t, h, post("/auth/register", "", `{"username":"pia","password":"password-1"}`), malformed, 415)
		ct.check(t, h, postJ("/auth/register", `{"username":"pia","password":"password-1","pad":"`+big+`"}`), well, 413)
	})

	t.Run("login", func(t *testing.T) {
		req := post("/auth/login", ctForm, url.Values{"username": {"mia"}, "password": {"password-1"}}.Encode())
		req.header = []string{"User-Agent", "Laptop/1.0"}
		req.remoteAddr = "198.51.100.7:40000"
		mia = tokensOf(t, ct.check(t, h, req, well, 200))
		// As Swagger UI's "Authorize" sends it, client credentials in a Basic header.
		ct.check(t, h, post("/auth/login", ctForm, "grant_type=password&username=MIA&password=password-1&scope=", "Authorization", "Basic c3dhZ2dlcjo="), well, 200)
		ct.check(t, h, post("/auth/login", ctForm, "grant_type=password&username=mia&password=password-1&client_id=swagger&client_secret="), well, 200)
		ct.check(t, h, post("/auth/login", "multipart/form-data; boundary=XX", multipartBody("XX", "username", "mia", "password", "password-1")), well, 200)
		ct.check(t, h, postJ("/auth/login", `{"username":"mia","password":"password-1"}`), well, 200)
		other := tokensOf(t, ct.check(t, h, postJ("/auth/login", `{"username":"mia","password":"password-1"}`), well, 200))
		ct.check(t, h, post("/auth/login", ctForm, "grant_type=refresh_token&refresh_token="+other.RefreshToken), well, 200)
		// With the device token of an earlier login, and with a bad one, which is ignored.
		ct.check(t, h, postJ("/auth/login", `{"username":"mia","password":"password-1","device_token":"`+other.DeviceToken+`"}`), well, 200)
		ct.check(t, h, post("/auth/login", ctForm, "username=mia&password=password-1&device_token=forged"), well, 200)

		wrong := ct.check(t, h, post("/auth/login", ctForm, "username=mia&password=password-9"), well, 401)
		unknown := ct.check(t, h, post("/auth/login", ctForm, "username=nobody&password=password-1"), well, 401)
		if string(wrong.body) != string(unknown.body) {
			t.Errorf("unknown user and wrong password differ: %s / %s", wrong.body, unknown.body)
		}
		ct.check(t, h, post("/auth/login", ctForm, "grant_type=refresh_token&refresh_token=garbage"), well, 401)
		ct.check(t, h, post("/auth/login", ctForm, "grant_type=client_credentials&client_id=x"), malformed, 400)
		ct.check(t, h, post("/auth/login", ctForm, "username=mia"), malformed, 422)
		ct.check(t, h, post("/auth/login", ctForm, "grant_type=refresh_token"), malformed, 422)
		ct.check(t, h, postJ("/auth/login", `{"username":"mia","password":null}`), malformed, 422)
		ct.check(t, h, post("/auth/login", "text/plain", "username=mia&password=password-1"), malformed, 415)
		ct.check(t, h, post("/auth/login", ctForm, "username=mia&password=password-1&pad="+big), well, 413)
	})

	t.Run("refresh", func(t *testing.T) {
		p := tokensOf(t, serve(h, loginRequest("mia", "password-1")))
		ct.check(t, h, postJ("/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`), well, 200)
		ct.check(t, h, postJ("/auth/refresh", `{"refresh_token":"garbage"}`), well, 401)
		ct.check(t, h, postJ("/auth/refresh", `{"refresh_token":"`+p.AccessToken+`"}`), well, 401)
		ct.check(t, h, postJ("/auth/refresh", `{}`), malformed, 422)
		ct.check(t, h, post("/auth/refresh", ctForm, "refresh_token="+p.RefreshToken), malformed, 415)
		ct.check(t, h, postJ("/auth/refresh", `{"refresh_token":"`+big+`"}`), well, 413)
	})

	t.Run("me", func(t *testing.T) {
		r := ct.check(t, h, get("/auth/me", bearer(mia.AccessToken)...), well, 200)
		if r.json(t)["username"] != "mia" {
			t.Errorf("me = %s", r.body)
		}
		ct.check(t, h, get("/auth/me"), malformed, 401)
		ct.check(t, h, get("/auth/me", "Authorization", "Basic bWlhOnBhc3N3b3JkLTE="), malformed, 401)
		ct.check(t, h, get("/auth/me", bearer("garbage")...), well, 401)
		clock.Advance(31 * time.Minute)
		ct.check(t, h, get("/auth/me", bearer(mia.AccessToken)...), well, 401)
		clock.Advance(-31 * time.Minute)
	})

	t.Run("sessions", func(t *testing.T) {
		r := ct.check(t, h, get("/auth/sessions", bearer(mia.AccessToken)...), well, 200)
		var list []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		}
		if err := json.Unmarshal(r.body, &list); err != nil || len(list) < 2 {
			t.Fatalf("sessions = %s", r.body)
		}
		var another string
		for _, s := range list {
			if !s.Current {
				another = s.ID
			}
		}
		ct.check(t, h, get("/auth/sessions"), malformed, 401)

		olga := tokensOf(t, serve(h, loginRequest("olga", "password-1")))
		olgas := sessionIDs(t, a, "olga")
		ct.check(t, h, del("/auth/sessions/"+another, bearer(mia.AccessToken)...), well, 204)
		ct.check(t, h, del("/auth/sessions/"+another, bearer(mia.AccessToken)...), well, 404)
		ct.check(t, h, del("/auth/sessions/"+olgas[0], bearer(mia.AccessToken)...), well, 404)
		ct.check(t, h, del("/auth/sessions/no-such-session", bearer(mia.AccessToken)...), well, 404)
		ct.check(t, h, del("/auth/sessions/"+olgas[0]), malformed, 401)
		ct.check(t, h, del("/auth/sessions/"+olgas[0], bearer(olga.RefreshToken)...), well, 401)
	})

	t.Run("change-password", func(t *testing.T) {
		p := tokensOf(t, serve(h, loginRequest("olga", "password-1")))
		tok := bearer(p.AccessToken)
		ct.check(t, h, postJ("/auth/change-password", `{"current_password":"password-1","new_password":"password-2"}`), malformed, 401)
		ct.check(t, h, postJ("/auth/change-password", `{"current_password":"password-1","new_password":"password-2"}`, bearer("garbage")...), well, 401)
		ct.check(t, h, postJ("/auth/change-password", `{"current_password":"password-1","new_password":"short"}`, tok...), malformed, 422)
		ct.check(t, h, postJ("/auth/change-password", `{"current_password":"password-1"}`, tok...), malformed, 422)
		ct.check(t, h, postJ("/auth/change-password", `{"current_password":"password-x","new_password":"password-2"}`, tok...), well, 400)
		ct.check(t, h, postJ("/auth/change-password", `{"current_password":"password-1","new_password":"password-1"}`, tok...), well, 400)
		ct.check(t, h, post("/auth/change-password", ctForm, "current_password=password-1&new_password=password-2", tok...), malformed, 415)
		ct.check(t, h, postJ("/auth/change-password", `{"current_password":"password-1","new_password":"password-2","pad":"`+big+`"}`, tok...), well, 413)
		ct.check(t, h, postJ("/auth/change-password", `{"current_password":"password-1","new_password":"password-2"}`, tok...), well, 204)
		// Every earlier token is now refused.
		ct.check(t, h, get("/auth/me", tok...), well, 401)
		ct.check(t, h, postJ("/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`), well, 401)
	})

	t.Run("logout", func(t *testing.T) {
		p := tokensOf(t, serve(h, loginRequest("mia", "password-1")))
		ct.check(t, h, postJ("/auth/logout", `{"refresh_token":"`+p.RefreshToken+`"}`), well, 204)
		ct.check(t, h, postJ("/auth/logout", `{"refresh_token":"`+p.RefreshToken+`"}`), well, 204)
		ct.check(t, h, postJ("/auth/logout", `{"refresh_token":"garbage"}`), well, 401)
		ct.check(t, h, postJ("/auth/logout", `{}`), malformed, 422)
		ct.check(t, h, post("/auth/logout", "text/plain", `{"refresh_token":"x"}`), malformed, 415)
		ct.check(t, h, postJ("/auth/logout", `{"refresh_token":"`+big+`"}`), well, 413)
	})

	t.Run("disabled", func(t *testing.T) {
		p := tokensOf(t, serve(h, loginRequest("nell", "password-1")))
		u, _ := a.UserByUsername(ctx, "nell")
		if err := a.SetDisabled(ctx, u.ID, true); err != nil {
			t.Fatal(err)
		}
		tok := bearer(p.AccessToken)
		ct.check(t, h, post("/auth/login", ctForm, "username=nell&password=password-1"), well, 403)
		ct.check(t, h, postJ("/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`), well, 401)
		ct.check(t, h, get("/auth/me", tok...), well, 403)
		ct.check(t, h, postJ("/auth/change-password", `{"current_password":"password-1","new_password":"password-2"}`, tok...), well, 403)
		ct.check(t, h, post("/auth/logout-all", "", "", tok...), well, 403)
		ct.check(t, h, get("/auth/sessions", tok...), well, 403)
		ct.check(t, h, del("/auth/sessions/whatever", tok...), well, 403)
	})

	t.Run("logout-all", func(t *testing.T) {
		p := tokensOf(t, serve(h, loginRequest("mia", "password-1")))
		ct.check(t, h, post("/auth/logout-all", "", ""), malformed, 401)
		ct.check(t, h, post("/auth/logout-all", "", "", bearer(p.AccessToken)...), well, 204)
		ct.check(t, h, post("/auth/logout-all", "", "", bearer(p.AccessToken)...), well, 401)
	})

	// The store fails: 503 for an outage, 500 for anything else.
	t.Run("store failures", func(t *testing.T) {
		p := tokensOf(t, serve(h, loginRequest("mia", "password-1")))
		tok := bearer(p.AccessToken)
		calls := []call{
			postJ("/auth/register", `{"username":"quinn","password":"password-1"}`),
			post("/auth/login", ctForm, "username=mia&password=password-1"),
			postJ("/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`),
			postJ("/auth/change-password", `{"current_password":"password-1","new_password":"password-2"}`, tok...),
			get("/auth/me", tok...),
			postJ("/auth/logout", `{"refresh_token":"`+p.RefreshToken+`"}`),
			post("/auth/logout-all", "", "", tok...),
			get("/auth/sessions", tok...),
			del("/auth/sessions/whatever", tok...),
		}
		ct.checkStoreFailures(t, h, store.setErr, clock, calls) // admin_openapi_test.go
	})

	// A store without sessions: the session endpoints answer 501.
	t.Run("no session store", func(t *testing.T) {
		sa, err := auth.New(statelessStore{memstore.New()}, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests())
		if err != nil {
			t.Fatal(err)
		}
		sh := sa.Handler()
		if _, err := sa.Register(ctx, "ruth", "password-1"); err != nil {
			t.Fatal(err)
		}
		p := tokensOf(t, serve(sh, loginRequest("ruth", "password-1")))
		ct.check(t, sh, get("/auth/sessions", bearer(p.AccessToken)...), well, 501)
		ct.check(t, sh, del("/auth/sessions/whatever", bearer(p.AccessToken)...), well, 501)
	})

	t.Run("document", func(t *testing.T) {
		r := ct.check(t, h, get("/auth/openapi.json"), well, 200)
		if cc := r.header.Get("Cache-Control"); cc != "public, max-age=3600" {
			t.Errorf("Cache-Control = %q", cc)
		}
		if string(r.body) != string(auth.OpenAPI()) {
			t.Error("the served document differs from auth.OpenAPI()")
		}
	})

	// Failed logins past the per-username budget: 429, the password unchecked.
	t.Run("throttled", func(t *testing.T) {
		if _, err := a.Register(ctx, "tess", "password-1"); err != nil {
			t.Fatal(err)
		}
		p := tokensOf(t, serve(h, loginRequest("tess", "password-1")))
		for range 5 {
			ct.check(t, h, post("/auth/login", ctForm, "username=tess&password=wrong-pass"), well, 401)
		}
		ct.check(t, h, post("/auth/login", ctForm, "username=tess&password=password-1"), well, 429)
		ct.check(t, h, postJ("/auth/change-password", `{"current_password":"wrong-pass","new_password":"password-2"}`, bearer(p.AccessToken)...), well, 429)
	})

	// Registrations past the address's budget: 429.
	t.Run("register throttled", func(t *testing.T) {
		from := func(c call) call { c.remoteAddr = "203.0.113.77:1000"; return c }
		for range 10 {
			ct.check(t, h, from(postJ("/auth/register", `{"username":"mia","password":"password-1"}`)), well, 409)
		}
		r := ct.check(t, h, from(postJ("/auth/register", `{"username":"zoe","password":"password-1"}`)), well, 429)
		if r.header.Get("Retry-After") != "360" {
			t.Errorf("Retry-After = %q, want 360", r.header.Get("Retry-After"))
		}
	})

	t.Run("jwks", func(t *testing.T) {
		ct.check(t, h, get("/auth/.well-known/jwks.json"), well, 404) // HMAC only: nothing to publish
		var ed auth.Key
		for _, k := range testKeys(t) {
			if k.alg == "EdDSA" {
				ed = k.key
			}
		}
		ka, err := auth.New(memstore.New(), auth.WithSigningKey(ed), auth.WithInsecureFastHashingForTests())
		if err != nil {
			t.Fatal(err)
		}
		r := ct.check(t, ka.Handler(), get("/auth/.well-known/jwks.json"), well, 200)
		if !strings.Contains(string(r.body), `"kty":"OKP"`) {
			t.Errorf("JWKS = %s", r.body)
		}
	})

	t.Run("routing", func(t *testing.T) {
		for _, c := range []call{
			get("/auth/login"),
			{method: http.MethodPut, path: "/auth/register"},
			post("/auth/me", "", ""),
			get("/auth/logout-all"),
			post("/auth/openapi.json", "", ""),
			get("/auth/sessions/some-id"),
			del("/auth/sessions"),
		} {
			ct.checkRouting(t, h, c, http.StatusMethodNotAllowed)
		}
		for _, c := range []call{
			get("/auth/"),
			get("/auth/nope"),
			post("/auth/login/x", ctForm, "username=mia&password=password-1"),
			del("/auth/sessions/"),
			del("/auth/sessions/a/b"),
		} {
			ct.checkRouting(t, h, c, http.StatusNotFound)
		}
	})

	t.Run("dpop", func(t *testing.T) { checkDPoPContract(t, ct, clock) })
	t.Run("mfa", func(t *testing.T) { checkMFAContract(t, ct) })
	t.Run("passkeys", func(t *testing.T) { checkPasskeyContract(t, ct) })
	t.Run("admin", func(t *testing.T) { adminContract(t, ct) }) // admin_openapi_test.go
	t.Run("email", func(t *testing.T) { emailContract(t, ct) })

	ct.checkCoverage(t)
}

func sessionIDs(t *testing.T, a *auth.Authenticator, name string) []string {
	t.Helper()
	ctx := context.Background()
	u, err := a.UserByUsername(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	list, err := a.Sessions(ctx, u.ID)
	if err != nil || len(list) == 0 {
		t.Fatalf("Sessions(%s) = %v, %v", name, list, err)
	}
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}

// TestOpenAPIDocumentCopy checks that OpenAPI hands out a copy.
func TestOpenAPIDocumentCopy(t *testing.T) {
	doc := auth.OpenAPI()
	doc[0] = 'x'
	if auth.OpenAPI()[0] != '{' {
		t.Fatal("OpenAPI returned the shared document")
	}
}
