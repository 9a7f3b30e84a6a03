package phc

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodePHCRejectsBadHashes(t *testing.T) {
	const salt = "c2FsdHNhbHRzYWx0c2FsdA"
	const key = "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	good := "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key
	if _, _, _, err := Decode(good); err != nil {
		t.Fatalf("good hash rejected: %v", err)
	}
	bad := map[string]string{
		"empty":            "",
		"argon2i":          "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"argon2d":          "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"bcrypt":           "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
		"version 16":       "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"no version":       "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"t=0":              "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"p=0":              "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"p=256":            "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key,
		"m below 8p":       "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key,
		"m over cap":       "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key,
		"m overflow":       "$argon2id$v=19$m=99999999999,t=1,p=1$" + salt + "$" + key,
		"t over cap":       "$argon2id$v=19$m=64,t=100000,p=1$" + salt + "$" + key,
		"negative":         "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key,
		"plus sign":        "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key,
		"params reordered": "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"extra param":      "$argon2id$v=19$m=64,t=1,p=1,k=2$" + salt + "$" + key,
		"padded salt":      "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"bad base64":       "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:10] + "!" + key[11:],
		"url base64":       "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.ReplaceAll(key, "h", "_"),
		"short salt":       "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key,
		"short key":        "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$aGFzaA",
		"empty key":        "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$",
		"missing field":    "$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"extra field":      good + "$more",
		"no leading $":     good[1:],
		"huge salt":        "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 3000) + "$" + key,
		"huge string":      good + strings.Repeat("A", 5000),
		"newline in key":   "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:10] + "\n" + key[10:],
		"CRLF in salt":     "$argon2id$v=19$m=64,t=1,p=1$" + salt[:4] + "\r\n" + salt[4:] + "$" + key,
	}
	for name, h := range bad {
		t.Run(name, func(t *testing.T) {
			if _, _, _, err := Decode(h); !errors.Is(err, ErrInvalid) {
				t.Fatalf("decodePHC = %v, want ErrInvalid", err)
			}
		})
	}
}

func FuzzDecodePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA")
	f.Add("$argon2i$v=19$m=1,t=1,p=1$$")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := Decode(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if p.CheckBounds() != nil || uint32(len(salt)) != p.SaltLength || uint32(len(key)) != p.KeyLength {
			t.Fatalf("accepted out-of-bounds hash %q: %+v", s, p)
		}
		// Accepted strings re-encode to themselves: there is one spelling.
		if re := Encode(p, salt, key); re != s {
			t.Fatalf("re-encoding %q gave %q", s, re)
		}
	})
}
