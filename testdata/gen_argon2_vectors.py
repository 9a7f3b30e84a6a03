#!/usr/bin/python3
"""Generate argon2id test vectors with Debian's python3-argon2 (argon2-cffi).

Writes argon2_vectors.json next to this script: a JSON array of
{"name", "password_b64", "hash", "wrong_password_b64"} objects. Passwords are
passed to argon2-cffi as raw bytes so NUL bytes and un-normalized Unicode are
hashed exactly. Salts come from os.urandom, so hashes differ on each run.

Regenerate (needs `apt-get install python3-argon2`):
    /usr/bin/python3 testdata/gen_argon2_vectors.py
"""

import base64
import json
import os
import unicodedata

import argon2
from argon2 import PasswordHasher, Type
from argon2.exceptions import VerifyMismatchError

# RFC 9106 second recommended option (also argon2-cffi >= 21.2.0's default).
# Set explicitly: Debian's argon2-cffi 21.1.0 has older defaults.
RFC = dict(time_cost=3, memory_cost=65536, parallelism=4, hash_len=32, salt_len=16)
# Cheap params so the bulk of the vectors verify quickly.
CHEAP = dict(time_cost=1, memory_cost=64, parallelism=1, hash_len=32, salt_len=16)


def u(s):
    return s.encode("utf-8")


NFD = unicodedata.normalize("NFD", "Åmélie-café-ñ")
NFC = unicodedata.normalize("NFC", NFD)
assert NFD != NFC

LONG128 = ("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" * 3)[:128]
assert len(LONG128) == 128
LONG1000 = bytes((i * 7 + 33) % 94 + 33 for i in range(1000))  # printable ASCII
assert len(LONG1000) == 1000

# (name, params, password bytes, wrong password bytes)
VECTORS = [
    ("rfc9106_ascii", RFC,
     u("correct horse battery staple"), u("correct horse battery stapl")),
    ("rfc9106_non_ascii", RFC,
     u("pässwörd-日本語-🔑"), u("passwörd-日本語-🔑")),
    ("cheap_ascii", CHEAP,
     u("hunter2"), u("hunter3")),
    ("cheap_non_ascii_accents_cjk_emoji", CHEAP,
     u("Grüße-中文-😀🔐"), u("Grüße-中文-😀🔑")),
    # Wrong = truncated at the first NUL (C-string bug).
    ("cheap_nul_bytes", CHEAP,
     b"abc\x00def\x00", b"abc"),
    # Wrong = last char changed (detects bcrypt-style 72-byte truncation).
    ("cheap_long_128_chars", CHEAP,
     u(LONG128), u(LONG128[:-1] + "!")),
    ("cheap_long_1000_bytes", CHEAP,
     LONG1000, LONG1000[:-1] + b"!"),
    # Stored NFD; wrong = NFC form (no Unicode normalization is applied).
    ("cheap_nfd_not_nfc", CHEAP,
     u(NFD), u(NFC)),
    # Wrong = stripped (no whitespace trimming is applied).
    ("cheap_surrounding_spaces", CHEAP,
     u("  spaced out  "), u("spaced out")),
    ("cheap_single_char", CHEAP,
     u("x"), u("y")),
    ("cheap_parallelism_2", dict(CHEAP, parallelism=2, memory_cost=128),
     u("parallel-lanes"), u("parallel-lane")),
    ("cheap_hash_len_16", dict(CHEAP, hash_len=16),
     u("short-tag"), u("short-tag ")),
    ("cheap_hash_len_64", dict(CHEAP, hash_len=64),
     u("long-tag"), u("Long-tag")),
]


def b64(b):
    return base64.b64encode(b).decode("ascii")


def main():
    out = []
    for name, params, pw, wrong in VECTORS:
        assert isinstance(pw, bytes) and isinstance(wrong, bytes) and pw != wrong
        ph = PasswordHasher(type=Type.ID, **params)
        h = ph.hash(pw)
        assert h.startswith("$argon2id$v=19$m="), h
        assert ph.verify(h, pw)
        try:
            ph.verify(h, wrong)
        except VerifyMismatchError:
            pass
        else:
            raise AssertionError(f"{name}: wrong password verified")
        out.append({
            "name": name,
            "password_b64": b64(pw),
            "hash": h,
            "wrong_password_b64": b64(wrong),
        })
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "argon2_vectors.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2, ensure_ascii=True)
        f.write("\n")
    print(f"wrote {len(out)} vectors to {path} (argon2-cffi {argon2.__version__})")


if __name__ == "__main__":
    main()
