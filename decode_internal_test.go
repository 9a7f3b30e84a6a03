package auth

import (
	"bytes"
	"encoding/json"
	"net/http"
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
