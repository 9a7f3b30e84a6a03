package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
)

// rolesClaim is the access-token claim that carries the user's roles.
const rolesClaim = "roles"

// Limits on role and scope names and on how many a user or key holds.
const (
	maxNameLen = 64
	maxRoles   = 16
)

// validName reports whether s is a role or scope name: 1 to 64 ASCII
// letters, digits and ':', '.', '_', '-'.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == ':', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// nameSet returns names sorted and without repeats, nil when empty, or a
// validation error naming field.
func nameSet(field string, names []string) ([]string, error) {
	var verr ValidationError
	if len(names) > maxRoles {
		verr.add(field, "too_long", fmt.Sprintf("At most %d names", maxRoles))
		return nil, &verr
	}
	for _, n := range names {
		if !validName(n) {
			verr.add(field, "string_pattern_mismatch", fmt.Sprintf("Names are 1 to %d letters, digits and ':._-'", maxNameLen))
			return nil, &verr
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// HasRole reports whether the user holds role.
func (u *User) HasRole(role string) bool {
	_, ok := slices.BinarySearch(u.Roles, role)
	return ok
}

// withRoles adds the user's roles to the claims of an access token,
// unless the application's own claims ([WithClaims]) set "roles" already,
// in any case encoding/json would match: applications that put roles in
// tokens before Gatehouse kept them go on doing so unchanged, and a token
// never carries two spellings of the claim.
func withRoles(u *User, extra map[string]any) map[string]any {
	if len(u.Roles) == 0 {
		return extra
	}
	for k := range extra {
		if strings.EqualFold(k, rolesClaim) {
			return extra
		}
	}
	out := make(map[string]any, len(extra)+1)
	for k, v := range extra {
		out[k] = v
	}
	out[rolesClaim] = slices.Clone(u.Roles)
	return out
}

// SetRoles replaces the roles of a user. Role names are 1 to 64 letters,
// digits and ':._-', at most 16; a bad one is a [*ValidationError].
// Adding a role takes effect at once ([Authenticator.RequireRole] reads the
// user's current roles, and new tokens carry them in the "roles" claim).
// Removing one takes effect like disabling: the token version goes up, so
// every token, session and API key issued before stops working, at once
// on this Authenticator and within [WithUserCacheTTL] on others. Removing
// the admin role ([WithAdminRole]) from the last enabled admin is refused
// with [ErrLastAdmin]. The change is recorded in the audit trail.
func (a *Authenticator) SetRoles(ctx context.Context, userID string, roles []string) error {
	want, err := nameSet("roles", roles)
	if err != nil {
		return err
	}
	return a.changeRoles(ctx, userID, func([]string) []string { return want })
}

// AddRole adds one role to a user; see [Authenticator.SetRoles].
func (a *Authenticator) AddRole(ctx context.Context, userID, role string) error {
	if _, err := nameSet("role", []string{role}); err != nil {
		return err
	}
	return a.changeRoles(ctx, userID, func(cur []string) []string { return append(slices.Clone(cur), role) })
}

// RemoveRole removes one role from a user; see [Authenticator.SetRoles].
// Removing a role the user does not hold changes nothing.
func (a *Authenticator) RemoveRole(ctx context.Context, userID, role string) error {
	return a.changeRoles(ctx, userID, func(cur []string) []string {
		return slices.DeleteFunc(slices.Clone(cur), func(r string) bool { return r == role })
	})
}

// changeRoles applies change to the user's roles, bumping the token
// version when a role went away, and records the change.
func (a *Authenticator) changeRoles(ctx context.Context, userID string, change func([]string) []string) error {
	// The last-admin check and the write happen under one lock, with the
	// admin API's disabling and deleting, so that two demotions on this
	// instance cannot both pass it.
	a.adm.mu.Lock()
	defer a.adm.mu.Unlock()
	var added, removed []string
	u, err := a.modifyUser(ctx, userID, "set roles", func(u *User) (bool, error) {
		next, err := nameSet("roles", change(u.Roles))
		if err != nil {
			return false, err
		}
		added, removed = diff(u.Roles, next), diff(next, u.Roles)
		if len(added) == 0 && len(removed) == 0 {
			return false, nil
		}
		if admin := a.cfg.admin.role; admin != "" && slices.Contains(removed, admin) && !u.Disabled {
			if err := a.keepAnAdmin(ctx, u.ID); err != nil {
				return false, err
			}
		}
		u.Roles = next
		if len(removed) > 0 {
			u.TokenVersion++
		}
		return true, nil
	})
	if err != nil || u == nil {
		return err
	}
	a.record(ctx, "user.roles_changed", u.ID, map[string]any{"added": orEmpty(added), "removed": orEmpty(removed), "roles": orEmpty(u.Roles)})
	a.eventLog().LogAttrs(ctx, slog.LevelInfo, "auth: roles changed", slog.String("user_id", u.ID))
	return nil
}

// diff returns the names of b that are not in a; both are sorted.
func diff(a, b []string) []string {
	var out []string
	for _, n := range b {
		if _, ok := slices.BinarySearch(a, n); !ok {
			out = append(out, n)
		}
	}
	return out
}

// orEmpty makes a nil list encode as [] rather than null.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// RequireRole returns middleware that lets a request through only when
// its user, put in the context by [Authenticator.Middleware], holds at
// least one of roles; otherwise the error handler answers 403 with
// "insufficient_role" (401 without a user). It reads the user's current
// roles, not the token's claim, so a role removed a moment ago counts as
// gone.
func (a *Authenticator) RequireRole(roles ...string) func(http.Handler) http.Handler {
	want := slices.Clone(roles)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, _ := r.Context().Value(userKey{}).(*authenticated)
			if v == nil {
				a.cfg.errorHandler(w, r, ErrNoToken)
				return
			}
			if !slices.ContainsFunc(want, v.shared.HasRole) {
				a.cfg.errorHandler(w, r, ErrInsufficientRole)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
