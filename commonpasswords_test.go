package auth

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCommonPasswordList(t *testing.T) {
	set := commonPasswords()
	if len(set) != 3000 {
		t.Fatalf("%d passwords, want 3000", len(set))
	}
	for pw := range set {
		if n := utf8.RuneCountInString(pw); n < minPasswordLength || n > maxPasswordLength || pw != strings.ToLower(pw) || strings.TrimSpace(pw) != pw {
			t.Errorf("entry %q is not a lower-case password that passes the length check", pw)
		}
	}
}
