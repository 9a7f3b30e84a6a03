package auth

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"username":"alice","password":"password-1"}`))
	f.Add([]byte(`{"username":"a","username":"b"}`))
	f.Add([]byte(`{"Username":1,"password":null} x`))
	f.Add([]byte(`[[[[[[`))
	f.Add([]byte("{\"password\":\"\xff\"}"))
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
		for k := range got {
			if k != "username" && k != "password" {
				t.Fatalf("returned an unwanted field %q", k)
			}
		}
	})
}
