package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"username":"alice","password":"password-1"}`))
	f.Add([]byte(`{"username":"a","username":"b"}`))
	f.Add([]byte(`{"Username":1,"password":null} x`))
	f.Add([]byte(`[[[[[[`))
	f.Add([]byte("{\"password\":\"\xff\"}"))
	f.Add([]byte(`{"username":"a\u0000b","password":"\ud800"}`))
	f.Add([]byte(`{"USERNAME":"x","username":"y","password":"p"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeJSON(bytes.NewReader(body), "username", "password")
		if err != nil {
			p := problemFor(err)
			if p.status != http.StatusUnprocessableEntity {
				t.Fatalf("decode error mapped to %d: %v", p.status, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		// encoding/json, decoding into a map, matches keys exactly, as we
		// do; with duplicates refused, both must read the same values.
		var ref map[string]json.RawMessage
		if err := json.Unmarshal(body, &ref); err != nil {
			t.Fatalf("accepted %q, which is not an object: %v", body, err)
		}
		for _, k := range []string{"username", "password"} {
			raw, inRef := ref[k]
			v, inGot := got[k]
			if inRef != inGot {
				t.Fatalf("field %q: present %v, but %v for encoding/json", k, inGot, inRef)
			}
			var want string
			if inRef && (json.Unmarshal(raw, &want) != nil || want != v || !utf8.ValidString(v)) {
				t.Fatalf("field %q = %q, encoding/json reads %s", k, v, raw)
			}
		}
		if len(got) > 2 {
			t.Fatalf("returned unwanted fields: %v", got)
		}
	})
}

func TestLoneSurrogates(t *testing.T) {
	for raw, want := range map[string]bool{
		`"abc"`:                  false,
		`"\ud83d\ude00"`:         false, // a pair: 😀
		`"x\uD83D\uDE00y"`:       false,
		`"\u00e9\u0041"`:         false,
		`"\\ud800"`:              false, // an escaped backslash, then text
		`"\ud800"`:               true,
		`"\udc00"`:               true,
		`"a\ud800b"`:             true,
		`"\ud800\u0041"`:         true,
		`"\ud800\ud800"`:         true,
		`"\ude00\ud83d"`:         true,
		`"\ud83d\ude00\ud83d"`:   true,
		`"\ud83d\\ude00"`:        true,
		`"password-\udfff-long"`: true,
	} {
		if got := hasLoneSurrogate([]byte(raw)); got != want {
			t.Errorf("hasLoneSurrogate(%s) = %v, want %v", raw, got, want)
		}
	}
	// At the body level: 422, not a password that verifies as U+FFFD.
	_, err := decodeJSON(strings.NewReader(`{"username":"alice","password":"passw\ud800rd-1"}`), "username", "password")
	var verr *ValidationError
	if !errors.As(err, &verr) || verr.Problems[0].Type != "string_unicode" || verr.Problems[0].Loc[1] != "password" {
		t.Fatalf("decodeJSON = %v, want a string_unicode problem on password", err)
	}
}
