package jose_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth/internal/jose"
)

var testSecret = []byte("f3a91c07e5d24b68a0c7e19b3d52f8a6-test-only")

// signRaw signs payload as it is, with HS256 computed here rather than by
// the package, so that a test can put into a correctly signed token what
// Sign would never write.
func signRaw(kid, payload string) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(`{"alg":"HS256","kid":"`+kid+`","typ":"JWT"}`)) + "." +
		enc.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, testSecret)
	mac.Write([]byte(input))
	return input + "." + enc.EncodeToString(mac.Sum(nil))
}

// testParser returns a parser for HS256 tokens signed with testSecret under
// kid "hs", at now, with the issuer and audience of payloadOf.
func testParser(t testing.TB, now time.Time) (*jose.Parser, jose.Lookup) {
	t.Helper()
	k, err := jose.NewHMAC("hs", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	set, err := jose.NewSet(k)
	if err != nil {
		t.Fatal(err)
	}
	p := jose.NewParser(jose.Rules{
		Algorithms: set.Algorithms(),
		Issuer:     "https://login.example.test",
		Audience:   "orders",
		Clock:      func() time.Time { return now },
	})
	return p, set.Lookup
}

// payloadOf returns the claims of a valid token of type typ for user "u1",
// issued at now, followed by extra members (each starting with a comma).
func payloadOf(now time.Time, typ, extra string) string {
	return withDates(fmt.Sprint(now.Add(30*time.Minute).Unix()), fmt.Sprint(now.Unix()), typ, extra)
}

// withDates is payloadOf with "exp" and "iat" given as JSON text.
func withDates(exp, iat, typ, extra string) string {
	return fmt.Sprintf(`{"iss":"https://login.example.test","sub":"u1","aud":["orders"],"exp":%s,"iat":%s,`+
		`"jti":"j1","type":%q,"ver":3,"sid":"s1"%s}`, exp, iat, typ, extra)
}

// TestParseRefusesAmbiguousPayloads checks that a correctly signed token is
// refused when its payload could be read two ways: a key that encoding/json
// would match to a claim ignoring case, a key given twice, or a NumericDate
// that is not a JSON number.
func TestParseRefusesAmbiguousPayloads(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p, lookup := testParser(t, now)
	far := now.Add(100 * 365 * 24 * time.Hour).Unix()
	unix := func(t time.Time) string { return fmt.Sprint(t.Unix()) }
	q := func(n int64) string { return fmt.Sprintf(`"%d"`, n) }
	tests := []struct {
		name    string
		typ     string // the token's own "type"
		want    string // the type Parse is asked for
		payload string
		ok      bool
	}{
		{"plain access token", "access", "access", payloadOf(now, "access", ""), true},
		{"plain refresh token", "refresh", "refresh", payloadOf(now, "refresh", ""), true},
		{"application claims", "access", "access", payloadOf(now, "access", `,"role":"admin","subject":"x","types":["a"]`), true},
		{"reserved names nested", "access", "access", payloadOf(now, "access", `,"app":{"sub":"u2","SUB":"u3","sub":"u4","Exp":"x"}`), true},
		{"escaped application key", "access", "access", payloadOf(now, "access", `,"r\u006fle":"admin"`), true},
		{"escaped reserved key", "access", "access", strings.Replace(payloadOf(now, "access", ""), `"sub"`, `"s\u0075b"`, 1), true},
		{"fractional exp", "access", "access", withDates(unix(now.Add(time.Minute))+".5", unix(now), "access", ""), true},
		{"negative nbf", "access", "access", payloadOf(now, "access", `,"nbf":-1`), true},
		{"whitespace", "access", "access", strings.ReplaceAll(payloadOf(now, "access", ""), ",", " ,\n\t"), true},

		{"SUB with another user", "access", "access", payloadOf(now, "access", `,"SUB":"u2"`), false},
		{"Sub with another user", "access", "access", payloadOf(now, "access", `,"Sub":"u2"`), false},
		{"long s folds onto sub", "access", "access", payloadOf(now, "access", `,"ſub":"u2"`), false},
		{"escaped SUB", "access", "access", payloadOf(now, "access", `,"\u0053UB":"u2"`), false},
		{"Exp far in the future", "access", "access", payloadOf(now, "access", fmt.Sprintf(`,"Exp":%d`, far)), false},
		{"EXP far in the future", "access", "access", payloadOf(now, "access", fmt.Sprintf(`,"EXP":%d`, far)), false},
		{"Type access on a refresh token", "refresh", "access", payloadOf(now, "refresh", `,"Type":"access"`), false},
		{"TYPE refresh on an access token", "access", "refresh", payloadOf(now, "access", `,"TYPE":"refresh"`), false},
		{"Ver", "access", "access", payloadOf(now, "access", `,"Ver":0`), false},
		{"SID", "access", "access", payloadOf(now, "access", `,"SID":"s2"`), false},
		{"Jti", "access", "access", payloadOf(now, "access", `,"Jti":"j2"`), false},
		{"ISS", "access", "access", payloadOf(now, "access", `,"ISS":"https://login.example.test"`), false},
		{"Aud", "access", "access", payloadOf(now, "access", `,"Aud":"orders"`), false},
		{"IAT", "access", "access", payloadOf(now, "access", fmt.Sprintf(`,"IAT":%d`, now.Unix())), false},
		{"Nbf", "access", "access", payloadOf(now, "access", fmt.Sprintf(`,"Nbf":%d`, now.Unix())), false},

		{"duplicate sub", "access", "access", payloadOf(now, "access", `,"sub":"u2"`), false},
		{"duplicate exp", "access", "access", payloadOf(now, "access", fmt.Sprintf(`,"exp":%d`, far)), false},
		{"duplicate sub, one escaped", "access", "access", payloadOf(now, "access", `,"s\u0075b":"u2"`), false},
		{"duplicate application claim", "access", "access", payloadOf(now, "access", `,"role":"user","role":"admin"`), false},
		{"key not UTF-8", "access", "access", payloadOf(now, "access", ",\"r\xffle\":1"), false},

		{"exp as a string", "access", "access", withDates(q(far), unix(now), "access", ""), false},
		{"exp 9999999999 as a string", "access", "access", withDates(`"9999999999"`, unix(now), "access", ""), false},
		{"iat as a string", "access", "access", withDates(unix(now.Add(time.Minute)), q(now.Unix()), "access", ""), false},
		{"nbf as a string", "access", "access", payloadOf(now, "access", fmt.Sprintf(`,"nbf":"%d"`, now.Unix())), false},
		{"exp null", "access", "access", withDates("null", unix(now), "access", ""), false},
		{"iat null", "access", "access", withDates(unix(now.Add(time.Minute)), "null", "access", ""), false},
		{"nbf true", "access", "access", payloadOf(now, "access", `,"nbf":true`), false},
		{"nbf array", "access", "access", payloadOf(now, "access", fmt.Sprintf(`,"nbf":[%d]`, now.Unix())), false},
		{"nbf object", "access", "access", payloadOf(now, "access", `,"nbf":{}`), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := p.Parse(signRaw("hs", tc.payload), tc.want, lookup)
			if tc.ok {
				if err != nil {
					t.Fatalf("Parse(%s) = %v, want success", tc.payload, err)
				}
				if c.Subject != "u1" || c.Type != tc.typ {
					t.Fatalf("claims = %+v", c)
				}
				return
			}
			if !errors.Is(err, jose.ErrInvalid) {
				t.Fatalf("Parse(%s) = %+v, %v; want ErrInvalid", tc.payload, c, err)
			}
		})
	}
}

// TestSignedExtraCannotOverrideClaims signs through the package, as the
// root does with application claims: Extra is written after the claims, so
// a case variant there must not change what the token says.
func TestSignedExtraCannotOverrideClaims(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p, lookup := testParser(t, now)
	k, err := jose.NewHMAC("hs", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, extra := range []map[string]any{
		{"SUB": "admin"},
		{"Exp": now.Add(time.Hour * 24 * 365 * 100).Unix()},
		{"Type": jose.TypeAccess},
	} {
		v := int64(1)
		c := &jose.Claims{Type: jose.TypeRefresh, Version: &v, Extra: extra}
		c.Issuer = "https://login.example.test"
		c.Audience = jose.Audience("orders")
		c.Subject = "u1"
		c.ID = "j1"
		c.IssuedAt = jose.NumericDate(now)
		c.ExpiresAt = jose.NumericDate(now.Add(time.Minute))
		tok, err := jose.Sign(k, c)
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range []string{jose.TypeAccess, jose.TypeRefresh} {
			if got, err := p.Parse(tok, typ, lookup); !errors.Is(err, jose.ErrInvalid) {
				t.Errorf("extra %v, parsed as %s: %+v, %v; want ErrInvalid", extra, typ, got, err)
			}
		}
	}
}

// TestParseRefusesLineBreaks: base64 decoding skips CR and LF, so a token
// with one inserted would be a second spelling of the same token.
func TestParseRefusesLineBreaks(t *testing.T) {
	for _, tok := range []string{"a.b\n.c", "a.b.c\r", "\na.b.c"} {
		if _, err := jose.NewParser(jose.Rules{Algorithms: []string{"HS256"}, Clock: time.Now}).Parse(tok, jose.TypeAccess, nil); err == nil {
			t.Errorf("Parse(%q) succeeded", tok)
		}
	}
}
