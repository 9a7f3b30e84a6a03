package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

type argon2Vector struct {
	Name          string `json:"name"`
	PasswordB64   string `json:"password_b64"`
	Hash          string `json:"hash"`
	WrongPassword string `json:"wrong_password_b64"`
}

func loadVectors(t testing.TB) []argon2Vector {
	t.Helper()
	b, err := os.ReadFile("testdata/argon2_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []argon2Vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 10 {
		t.Fatalf("only %d vectors", len(vs))
	}
	return vs
}

// TestArgon2CFFIVectors checks hashes made by argon2-cffi (see testdata/README.md).
func TestArgon2CFFIVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			pw, _ := base64.StdEncoding.DecodeString(v.PasswordB64)
			wrong, _ := base64.StdEncoding.DecodeString(v.WrongPassword)
			ok, rehash, err := verifyPassword(string(pw), v.Hash, DefaultPasswordParams(), argon2id)
			if err != nil || !ok {
				t.Fatalf("verify(right) = %v, %v", ok, err)
			}
			if wantRehash := !strings.HasPrefix(v.Hash, "$argon2id$v=19$m=65536,t=3,p=4$"); rehash != wantRehash {
				t.Errorf("needsRehash = %v, want %v", rehash, wantRehash)
			}
			if ok, _, err := verifyPassword(string(wrong), v.Hash, DefaultPasswordParams(), argon2id); ok || err != nil {
				t.Errorf("verify(wrong) = %v, %v", ok, err)
			}
		})
	}
}

func TestHashRoundTrip(t *testing.T) {
	p := PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}
	for _, pw := range []string{"password", "pässwörd-日本語-🔑", "nul\x00inside", strings.Repeat("x", 1000)} {
		h, err := hashPassword(pw, p, argon2id)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(h, "=$") || strings.HasSuffix(h, "=") {
			t.Errorf("hash %q is not an unpadded PHC string", h)
		}
		if ok, rehash, err := verifyPassword(pw, h, p, argon2id); !ok || rehash || err != nil {
			t.Errorf("verify own hash = %v, %v, %v", ok, rehash, err)
		}
		if ok, _, _ := verifyPassword(pw[:len(pw)-1], h, p, argon2id); ok {
			t.Errorf("a shorter password verified")
		}
	}
	h1, _ := hashPassword("same", p, argon2id)
	h2, _ := hashPassword("same", p, argon2id)
	if h1 == h2 {
		t.Error("two hashes of one password are equal: salt is not random")
	}
}

func TestDecodePHCRejectsBadHashes(t *testing.T) {
	const salt = "c2FsdHNhbHRzYWx0c2FsdA"
	const key = "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	good := "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key
	if _, _, _, err := decodePHC(good); err != nil {
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
			if _, _, _, err := decodePHC(h); !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("decodePHC = %v, want ErrInvalidHash", err)
			}
			ok, _, err := verifyPassword("password", h, DefaultPasswordParams(), argon2id)
			if ok || !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("verifyPassword = %v, %v", ok, err)
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
		p, salt, key, err := decodePHC(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("error %v does not wrap ErrInvalidHash", err)
			}
			return
		}
		if p.checkBounds() != nil || uint32(len(salt)) != p.SaltLength || uint32(len(key)) != p.KeyLength {
			t.Fatalf("accepted out-of-bounds hash %q: %+v", s, p)
		}
		// Accepted strings re-encode to themselves: there is one spelling.
		if re := encodePHC(p, salt, key); re != s {
			t.Fatalf("re-encoding %q gave %q", s, re)
		}
	})
}
