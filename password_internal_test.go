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

// TestVerifyPasswordRejectsBadHashes checks that what the codec refuses
// (internal/phc has the full table) reaches callers as ErrInvalidHash.
func TestVerifyPasswordRejectsBadHashes(t *testing.T) {
	const salt = "c2FsdHNhbHRzYWx0c2FsdA"
	const key = "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	for _, h := range []string{
		"",
		"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:10] + "\n" + key[10:],
	} {
		ok, _, err := verifyPassword("password", h, DefaultPasswordParams(), argon2id)
		if ok || !errors.Is(err, ErrInvalidHash) {
			t.Fatalf("verifyPassword(%q) = %v, %v", h, ok, err)
		}
	}
}
