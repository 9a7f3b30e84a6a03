package auth

import (
	"strings"
)

// FieldError describes one problem with one input field, in the shape FastAPI
// uses for its 422 responses.
type FieldError struct {
	// Loc is the path to the field, such as ["body", "password"].
	Loc []string `json:"loc"`
	// Msg is a human-readable description of the problem.
	Msg string `json:"msg"`
	// Type is a stable machine-readable code such as "string_too_short".
	Type string `json:"type"`
}

// ValidationError lists every problem found in one input. It matches
// [ErrValidation] with [errors.Is].
type ValidationError struct {
	Problems []FieldError
}

// Error implements error. It names the fields and problem types, never the
// offending values.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(ErrValidation.Error())
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(strings.Join(p.Loc, "."))
		b.WriteString(" ")
		b.WriteString(p.Type)
	}
	return b.String()
}

// Is reports whether target is ErrValidation.
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

// add records a problem; it is a no-op helper that keeps call sites short.
func (e *ValidationError) add(field, typ, msg string) {
	e.Problems = append(e.Problems, FieldError{Loc: []string{"body", field}, Msg: msg, Type: typ})
}

// err returns e as an error, or nil when no problem was recorded.
func (e *ValidationError) err() error {
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}
