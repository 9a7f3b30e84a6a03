package auth

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// maxBodyBytes caps every request body the handlers read.
const maxBodyBytes = 64 << 10

// fields holds the string fields of a request body that an endpoint defined.
// A field that was absent is not in the map.
type fields map[string]string

// mediaType returns the request's media type, lower-cased, without
// parameters; "" when missing or unparsable.
func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

// readJSON decodes a JSON object body and returns the string members named
// in want. Rules, chosen to be strict where laxness would surprise:
//   - The body must be exactly one JSON object: trailing data is an error.
//   - Keys match exactly; "Username" is not "username" (encoding/json alone
//     would match case-insensitively). Other keys are ignored.
//   - A wanted key that appears twice is an error, not "last one wins".
//   - A wanted member must be a string of valid UTF-8; invalid bytes are an
//     error rather than silently replaced, since passwords are compared
//     byte for byte.
func readJSON(w http.ResponseWriter, r *http.Request, want ...string) (fields, error) {
	if mediaType(r) != "application/json" {
		return nil, errUnsupportedMedia
	}
	return decodeJSON(http.MaxBytesReader(w, r.Body, maxBodyBytes), want...)
}

func decodeJSON(body io.Reader, want ...string) (fields, error) {
	var verr ValidationError
	members, err := decodeMembers(body, want, &verr)
	if err != nil {
		return nil, err
	}
	out := fields{}
	for _, m := range members {
		key, raw := m.key, m.raw
		var s string
		switch {
		case len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil:
			verr.add(key, "string_type", "Input should be a valid string")
		case !utf8.Valid(raw):
			verr.add(key, "string_unicode", "Input should be a valid UTF-8 string")
		case hasLoneSurrogate(raw):
			// encoding/json turns "\ud800" into U+FFFD, so two different
			// passwords would verify as one.
			verr.add(key, "string_unicode", "Input should be a valid string: unpaired surrogate escape")
		}
		out[key] = s
	}
	if err := verr.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// member is one wanted member of a JSON object body, undecoded.
type member struct {
	key string
	raw json.RawMessage
}

// decodeMembers reads a JSON object body under readJSON's rules for the
// object (exactly one object, keys matched exactly, no trailing data) and
// returns the members named in want, in body order. A wanted key given
// twice is a problem added to verr, not "last one wins"; other problems
// are the returned error.
func decodeMembers(body io.Reader, want []string, verr *ValidationError) ([]member, error) {
	dec := json.NewDecoder(body)
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &ValidationError{Problems: []FieldError{{
			Loc: []string{"body"}, Msg: "Input should be a valid dictionary or object", Type: "model_attributes_type"}}}
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonErr(err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, jsonErr(err)
		}
		if !isWanted(key, want) {
			continue
		}
		if seen[key] {
			verr.add(key, "duplicate_key", "Field given more than once")
			continue
		}
		seen[key] = true
		out = append(out, member{key, raw})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, jsonErr(err)
		}
		return nil, errMalformedJSON
	}
	return out, nil
}

// hasLoneSurrogate reports whether the JSON string literal raw holds a
// \uD800-\uDFFF escape that is not half of a surrogate pair.
func hasLoneSurrogate(raw []byte) bool {
	pendingHigh := false // the previous escape was a high surrogate
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			if pendingHigh {
				return true
			}
			continue
		}
		i++
		if i >= len(raw) || raw[i] != 'u' || i+4 >= len(raw) {
			if pendingHigh {
				return true
			}
			continue
		}
		r, err := strconv.ParseUint(string(raw[i+1:i+5]), 16, 16)
		i += 4
		if err != nil {
			continue // not valid JSON; the decoder has refused it already
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if pendingHigh {
				return true
			}
			pendingHigh = true
		case r >= 0xDC00 && r <= 0xDFFF:
			if !pendingHigh {
				return true
			}
			pendingHigh = false
		default:
			if pendingHigh {
				return true
			}
		}
	}
	return pendingHigh
}

// jsonErr passes on a body-too-large error and turns anything else into a
// malformed-JSON error.
func jsonErr(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	return errMalformedJSON
}

// readForm decodes an application/x-www-form-urlencoded or
// multipart/form-data body, under the same rules as readJSON: only the body
// counts (never the URL query), duplicates of a wanted field are an error,
// and values must be valid UTF-8.
func readForm(w http.ResponseWriter, r *http.Request, want ...string) (fields, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	var err error
	switch mediaType(r) {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxBodyBytes)
	default:
		return nil, errUnsupportedMedia
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, err
		}
		return nil, &ValidationError{Problems: []FieldError{{Loc: []string{"body"}, Msg: "Form decode error", Type: "form_invalid"}}}
	}
	out := fields{}
	var verr ValidationError
	for _, key := range want {
		vals, ok := r.PostForm[key]
		switch {
		case !ok:
			continue
		case len(vals) > 1:
			verr.add(key, "duplicate_key", "Field given more than once")
		case !utf8.ValidString(vals[0]):
			verr.add(key, "string_unicode", "Input should be a valid UTF-8 string")
		}
		out[key] = vals[0]
	}
	if err := verr.err(); err != nil {
		return nil, err
	}
	return out, nil
}

func isWanted(key string, want []string) bool {
	for _, w := range want {
		if key == w {
			return true
		}
	}
	return false
}

// require returns a validation error with a "missing" problem for each
// named field that is absent, or nil when all are there.
func (f fields) require(names ...string) error {
	var v ValidationError
	for _, n := range names {
		if _, ok := f[n]; !ok {
			v.add(n, "missing", "Field required")
		}
	}
	return v.err()
}

// readRequiredJSON is readJSON for a body whose named fields are all
// required.
func readRequiredJSON(w http.ResponseWriter, r *http.Request, names ...string) (fields, error) {
	f, err := readJSON(w, r, names...)
	if err != nil {
		return nil, err
	}
	if err := f.require(names...); err != nil {
		return nil, err
	}
	return f, nil
}
