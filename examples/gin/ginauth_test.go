package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/gin-gonic/gin"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

func TestRequireUser(t *testing.T) {
	a, err := auth.New(memstore.New(),
		auth.WithSecret([]byte("f3a91c07e5d24b68a0c7e19b3d52f8a6-example-test")),
		auth.WithInsecureFastHashingForTests())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := a.Register(ctx, "bob", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	tokens, err := a.Login(ctx, "bob", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}

	var reached bool
	var fromGin, fromRequest *auth.User
	r := gin.New()
	r.GET("/secret", requireUser(a), func(c *gin.Context) {
		reached = true
		fromGin, _ = currentUser(c)
		fromRequest, _ = auth.UserFromContext(c.Request.Context())
	})

	req := httptest.NewRequest(http.MethodGet, "/secret", nil)
	req.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
	r.ServeHTTP(httptest.NewRecorder(), req)
	if !reached || fromGin == nil || fromGin.Username != "bob" || fromRequest == nil || fromRequest.ID != fromGin.ID {
		t.Fatalf("reached %v, gin user %+v, request user %+v", reached, fromGin, fromRequest)
	}

	reached = false
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/secret", nil))
	if rec.Code != http.StatusUnauthorized || reached {
		t.Errorf("without a token: status %d, handler reached %v; want 401 and not reached", rec.Code, reached)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}
