package auth_test

import (
	"net/mail"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse/auth"
)

func TestCanonicalEmail(t *testing.T) {
	for in, want := range map[string]string{
		"alice@example.com":                       "alice@example.com",
		"Alice.Smith@Example.COM":                 "alice.smith@example.com",
		"ÄLICE@EXAMPLE.COM":                       "älice@example.com",
		"A\u0308lice@example.com":                 "älice@example.com", // decomposed: NFC
		"user+tag@sub.example.co.uk":              "user+tag@sub.example.co.uk",
		"STRASSE@example.com":                     "strasse@example.com",
		"a@b":                                     "a@b",
		strings.Repeat("a", 242) + "@example.com": strings.Repeat("a", 242) + "@example.com",
	} {
		got, err := auth.CanonicalEmail(in)
		if err != nil || got != want {
			t.Errorf("CanonicalEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "alice", "@example.com", "alice@", "Alice <alice@example.com>", "<alice@example.com>",
		"alice@example.com\r\nBcc: x@example.com", "alice@example.com\n", "ali\rce@example.com",
		"a@example.com, b@example.com", `"a b"@example.com`, "alice@example.com (comment)",
		" alice@example.com", "alice @example.com", "alice\x00@example.com", "alice\u202e@example.com",
		"alice@[192.0.2.1]", string([]byte{0xff}) + "@example.com",
		strings.Repeat("a", 243) + "@example.com", // 255 octets
	} {
		if got, err := auth.CanonicalEmail(in); err == nil {
			t.Errorf("CanonicalEmail(%q) = %q, want an error", in, got)
		}
	}
}

// FuzzCanonicalEmail: any input either fails or gives an address with no
// line break or control character that net/mail reads back as itself, of
// at most 254 octets before folding, and folding it again changes nothing.
func FuzzCanonicalEmail(f *testing.F) {
	for _, s := range []string{"alice@example.com", "Ä@x.y", "a\r\n@b", "A <a@b>", `"q"@x`, "ß@EXAMPLE.com", "ǅ@x", "İ@x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := auth.CanonicalEmail(in)
		if err != nil {
			return
		}
		if len(in) > 254 || !utf8.ValidString(got) || strings.ContainsAny(in, "\r\n\x00") || strings.ContainsAny(got, "\r\n\x00") {
			t.Fatalf("CanonicalEmail(%q) = %q accepted", in, got)
		}
		if a, err := mail.ParseAddress(in); err != nil || a.Address != in || a.Name != "" {
			t.Fatalf("accepted %q, which net/mail reads as %v, %v", in, a, err)
		}
		if len(got) <= 254 {
			if again, err := auth.CanonicalEmail(got); err == nil && again != got {
				t.Fatalf("folding %q again gives %q", got, again)
			}
		}
	})
}
