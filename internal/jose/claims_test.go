package jose_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse/auth/internal/jose"
)

// TestReservedClaimsAreWhatClaimsDecodes ties the reserved list to the
// Claims type: a claim added there must be reserved too.
func TestReservedClaimsAreWhatClaimsDecodes(t *testing.T) {
	var names []string
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "-":
			case f.Anonymous && name == "":
				walk(f.Type)
			case name != "":
				names = append(names, name)
			default:
				names = append(names, f.Name)
			}
		}
	}
	walk(reflect.TypeFor[jose.Claims]())
	got := jose.ReservedClaims()
	slices.Sort(names)
	slices.Sort(got)
	if !slices.Equal(got, names) {
		t.Fatalf("ReservedClaims() = %v, Claims decodes %v", got, names)
	}
	for _, n := range got {
		if !jose.IsReservedClaim(n) {
			t.Errorf("IsReservedClaim(%q) = false", n)
		}
	}
}

// decodesIntoClaims reports whether encoding/json lets key set a field of
// Claims: the truth that IsReservedClaim must match.
func decodesIntoClaims(key string) bool {
	k, err := json.Marshal(key)
	if err != nil {
		return false
	}
	type plain jose.Claims
	for _, v := range []string{`"x"`, `1`} {
		var c plain
		if err := json.Unmarshal([]byte(`{`+string(k)+`:`+v+`}`), &c); err != nil || !reflect.DeepEqual(c, plain{}) {
			return true
		}
	}
	return false
}

func TestIsReservedClaim(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"sub", true}, {"SUB", true}, {"Sub", true}, {"sUb", true},
		{"ſub", true}, {"ıss", false}, // long s folds onto s, dotless i not onto i
		{"Exp", true}, {"IAT", true}, {"nBf", true}, {"Jti", true}, {"ISS", true}, {"AUD", true},
		{"type", true}, {"TYPE", true}, {"Type", true}, {"ver", true}, {"VER", true}, {"sid", true}, {"SID", true}, {"ſid", true},
		{"amr", true}, {"AMR", true}, {"auth_time", true}, {"AUTH_TIME", true}, {"auth_ſime", false}, {"authtime", false},
		{"", false}, {"su", false}, {"subject", false}, {"sub ", false}, {"types", false}, {"role", false}, {"SUBS", false},
		{"ſſſſſſſſſſſſſſſſſſ", false},
	}
	for _, tc := range tests {
		if got := jose.IsReservedClaim(tc.name); got != tc.want {
			t.Errorf("IsReservedClaim(%q) = %v, want %v", tc.name, got, tc.want)
		}
		if got := decodesIntoClaims(tc.name); got != tc.want {
			t.Errorf("encoding/json: %q sets a claim: %v; the table says %v", tc.name, got, tc.want)
		}
	}
}

// FuzzIsReservedClaim holds IsReservedClaim to what encoding/json does.
func FuzzIsReservedClaim(f *testing.F) {
	for _, s := range []string{"sub", "SUB", "ſub", "Type", "K", "role", "ıat"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if !utf8.ValidString(name) {
			return // encoding/json would decode another name
		}
		if got, want := jose.IsReservedClaim(name), decodesIntoClaims(name); got != want {
			t.Fatalf("IsReservedClaim(%q) = %v, encoding/json sets a claim: %v", name, got, want)
		}
	})
}

// checkKeysDecoder is CheckKeys written with encoding/json's Decoder.Token:
// slower, plainly right, and the oracle of FuzzCheckKeys.
func checkKeysDecoder(p []byte) bool {
	if !utf8.Valid(p) {
		// Decoder.Token replaces bad bytes; CheckKeys refuses them in a
		// key, and a payload's values are ours to ignore, so only compare
		// valid text.
		return false
	}
	d := json.NewDecoder(bytes.NewReader(p))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		key := tok.(string)
		if seen[key] || (jose.IsReservedClaim(key) && !slices.Contains(jose.ReservedClaims(), key)) {
			return false
		}
		seen[key] = true
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return false
		}
		switch key {
		case "exp", "iat", "nbf":
			if c := v[0]; c != '-' && (c < '0' || c > '9') {
				return false
			}
		}
	}
	if tok, err := d.Token(); err != nil || tok != json.Delim('}') {
		return false
	}
	_, err := d.Token()
	return err != nil // nothing after the object
}

var checkKeysSeeds = []string{
	`{"iss":"https://login.example.test","sub":"u1","aud":["orders"],"exp":1795000000,"iat":1794998200,"jti":"j1","type":"access","ver":3}`,
	`{}`, ` { } `, `{"a":{"sub":1,"sub":2},"b":[{"}":"]"}],"c":"\"}"}`,
	`{"sub":"u1","SUB":"u2"}`, `{"sub":"u1","sub":"u2"}`, `{"sub":"u1","s\u0075b":"u2"}`, `{"ſub":"u2"}`,
	`{"exp":"9999999999"}`, `{"exp":-1.5e3}`, `{"iat":null}`, `{"nbf":true}`, `{"Type":"access"}`,
	`{"\ud800":1,"\ud801":2}`, "{\"r\xffle\":1}", `[]`, `null`, `{"a":1}x`, `{"a" 1}`,
}

// FuzzCheckKeys holds the hand-written scanner to the Decoder one on valid
// JSON (the only input Parse gives it), and to not panicking on the rest.
func FuzzCheckKeys(f *testing.F) {
	for _, s := range checkKeysSeeds {
		f.Add([]byte(s))
	}
	for _, n := range []int{15, 16, 17, 40} {
		f.Add([]byte("{" + keys(n) + `"last":0}`))
		f.Add([]byte("{" + keys(n) + `"k1":0}`))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		got := jose.CheckKeys(p)
		if !json.Valid(p) || !utf8.Valid(p) {
			return
		}
		if want := checkKeysDecoder(p); got != want {
			t.Fatalf("CheckKeys(%s) = %v, Decoder says %v", p, got, want)
		}
	})
}

// keys returns n distinct members, so that seeds cross the point where
// CheckKeys turns from pairwise comparison to a map.
func keys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	return b.String()
}

func TestCheckKeys(t *testing.T) {
	for _, s := range checkKeysSeeds {
		if !json.Valid([]byte(s)) || !utf8.ValidString(s) {
			continue
		}
		if got, want := jose.CheckKeys([]byte(s)), checkKeysDecoder([]byte(s)); got != want {
			t.Errorf("CheckKeys(%s) = %v, Decoder says %v", s, got, want)
		}
	}
	for _, n := range []int{15, 16, 17, 40} {
		distinct := "{" + keys(n) + `"last":0}`
		if !jose.CheckKeys([]byte(distinct)) {
			t.Errorf("%d distinct keys refused", n+1)
		}
		dup := "{" + keys(n) + `"k0":0}`
		if jose.CheckKeys([]byte(dup)) {
			t.Errorf("%d keys, last repeating the first, accepted", n+1)
		}
	}
}

// BenchmarkCheckKeys compares the hand-written scanner with the same check
// on encoding/json's Decoder.Token, on a typical access token's payload;
// "payload" is what Parse adds to each token: base64 decoding and scanner.
func BenchmarkCheckKeys(b *testing.B) {
	p := []byte(checkKeysSeeds[0])
	tok := "e30." + base64.RawURLEncoding.EncodeToString(p) + ".c2ln"
	b.Run("payload", func(b *testing.B) {
		for b.Loop() {
			if !jose.CheckPayload(tok) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("scanner", func(b *testing.B) {
		for b.Loop() {
			if !jose.CheckKeys(p) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("Decoder.Token", func(b *testing.B) {
		for b.Loop() {
			if !checkKeysDecoder(p) {
				b.Fatal("refused")
			}
		}
	})
}
