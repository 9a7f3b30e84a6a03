package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/dpop"
)

func TestDPoPFlags(t *testing.T) {
	c, err := parseConfig(nil, env(nil), io.Discard, io.Discard)
	if err != nil || c.dpop != auth.DPoPAllowed || c.dpopNonce {
		t.Fatalf("defaults: %v %v %v, want allowed without nonces", err, c.dpop, c.dpopNonce)
	}
	c, err = parseConfig([]string{"-dpop", "required", "-dpop-nonce"}, env(nil), io.Discard, io.Discard)
	if err != nil || c.dpop != auth.DPoPRequired || !c.dpopNonce {
		t.Fatalf("-dpop required -dpop-nonce: %v %v %v", err, c.dpop, c.dpopNonce)
	}
	if _, err := parseConfig([]string{"-dpop", "on"}, env(nil), io.Discard, io.Discard); err == nil {
		t.Error("-dpop on accepted")
	}
}

// TestDPoPServer: with -dpop required -dpop-nonce, a Go client with the
// dpop transport logs in bound and calls /hello; the token alone does not.
func TestDPoPServer(t *testing.T) {
	base := startServer(t, env(nil), "-db", "memory", "-dpop", "required", "-dpop-nonce")
	res, err := http.Post(base+"/auth/register", "application/json", strings.NewReader(`{"username":"dina","password":"password-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	form := url.Values{"username": {"dina"}, "password": {"password-1"}}
	res, err = http.PostForm(base+"/auth/login", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("login without a proof: %d, want 400", res.StatusCode)
	}

	tr, err := dpop.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: tr}
	res, err = client.PostForm(base+"/auth/login", form)
	if err != nil {
		t.Fatal(err)
	}
	var p auth.TokenPair
	_ = json.NewDecoder(res.Body).Decode(&p)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || p.TokenType != "DPoP" {
		t.Fatalf("login with the transport: %d %q", res.StatusCode, p.TokenType)
	}
	for _, tc := range []struct {
		client *http.Client
		scheme string
		want   int
	}{{client, "DPoP", 200}, {http.DefaultClient, "DPoP", 401}, {http.DefaultClient, "Bearer", 401}} {
		req, _ := http.NewRequest(http.MethodGet, base+"/hello", nil)
		req.Header.Set("Authorization", tc.scheme+" "+p.AccessToken)
		res, err := tc.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("/hello, %s, with the key %v: %d, want %d", tc.scheme, tc.client == client, res.StatusCode, tc.want)
		}
	}
}
