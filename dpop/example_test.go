package dpop_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/dpop"
	"github.com/gatehouse/auth/memstore"
	"golang.org/x/oauth2"
)

// A Go service logs in with golang.org/x/oauth2 and calls a protected
// route; the transport signs a proof for every request, so the tokens are
// bound to its key.
func Example() {
	a, _ := auth.New(memstore.New(), auth.WithSecret(secret), auth.WithDPoP(auth.DPoPRequired))
	_, _ = a.Register(context.Background(), "alice", "correct horse battery")
	mux := http.NewServeMux()
	mux.Handle("/auth/", a.Handler())
	mux.Handle("/hello", a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello")
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	t, err := dpop.New(nil) // a new ES256 key, kept in memory
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: t})
	conf := &oauth2.Config{Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/auth/login", AuthStyle: oauth2.AuthStyleInParams}}
	tok, err := conf.PasswordCredentialsToken(ctx, "alice", "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token type:", tok.Type())

	res, err := conf.Client(ctx, tok).Get(srv.URL + "/hello")
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	fmt.Println("with the key:", res.StatusCode)

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/hello", nil)
	req.Header.Set("Authorization", "DPoP "+tok.AccessToken)
	res, err = http.DefaultClient.Do(req) // the token alone
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	fmt.Println("without it:", res.StatusCode)
	// Output:
	// token type: DPoP
	// with the key: 200
	// without it: 401
}
