package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// An admin API for the role "admin", API keys, and application routes
// guarded by a role and by an API key's scope.
func ExampleWithAdminRole() {
	store := memstore.New()
	a, err := auth.New(store,
		auth.WithSecret(testSecret),
		auth.WithAdminRole("admin"), // /auth/admin/ for users holding "admin"
		auth.WithAPIKeys(),          // /auth/api-keys, Bearer gh_..., /auth/introspect
	)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	alice, err := a.Register(ctx, "alice", "correct horse battery")
	if err != nil {
		panic(err)
	}
	// The first admin comes from the operator, not from the API.
	if err := a.AddRole(ctx, alice.ID, "admin"); err != nil {
		panic(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/auth/", a.Handler())
	reports := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.UserFromContext(r.Context())
		fmt.Fprintln(w, "reports for", u.Username)
	})
	mux.Handle("/reports", a.Middleware(a.RequireScope("reports:read")(reports)))
	mux.Handle("/ops", a.Middleware(a.RequireRole("admin", "ops")(reports)))

	// A key for a script: shown once, stored only as a keyed hash.
	_, key, err := a.CreateAPIKey(ctx, alice.ID, "nightly export", []string{"reports:read"}, 0)
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(key, "gh_"))

	req := httptest.NewRequest(http.MethodGet, "/reports", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())

	// The key may not manage keys, change the password or use the admin API.
	req = httptest.NewRequest(http.MethodGet, "/auth/admin/users", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// true
	// 200 reports for alice
	// 403
}

// Listing users a page at a time, as the admin API and the example
// server's CLI do.
func ExampleAuthenticator_ListUsers() {
	a, err := auth.New(memstore.New(), auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests())
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, name := range []string{"carol", "alice", "bob", "alina"} {
		if _, err := a.Register(ctx, name, "correct horse battery"); err != nil {
			panic(err)
		}
	}
	q := auth.UserQuery{Prefix: "al", Limit: 100}
	for {
		page, err := a.ListUsers(ctx, q)
		if err != nil {
			panic(err)
		}
		for _, u := range page {
			fmt.Println(u.Username, u.Roles)
		}
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].Username
	}
	// Output:
	// alice []
	// alina []
}
