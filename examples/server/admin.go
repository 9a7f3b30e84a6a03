package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/gatehouse/auth"
)

// adminRole is the role that the admin API (/auth/admin/) requires. The
// first admin is made with "users role add NAME admin".
const adminRole = "admin"

const adminUsage = "usage: server [-db STORE] users list [--query Q] | users role add|remove NAME ROLE"

// adminCommand runs "users list [--query Q]", "users role add NAME ROLE"
// and "users role remove NAME ROLE" through the library, so that a role
// removed ends the user's tokens and the last admin is kept.
func adminCommand(ctx context.Context, a *auth.Authenticator, args []string, out io.Writer) error {
	switch {
	case len(args) >= 2 && args[1] == "list":
		query := ""
		switch rest := args[2:]; {
		case len(rest) == 0:
		case len(rest) == 2 && (rest[0] == "--query" || rest[0] == "-query"):
			query = rest[1]
		case len(rest) == 1 && (strings.HasPrefix(rest[0], "--query=") || strings.HasPrefix(rest[0], "-query=")):
			_, query, _ = strings.Cut(rest[0], "=")
		default:
			return errors.New(adminUsage)
		}
		return listUsers(ctx, a, query, out)
	case len(args) == 5 && args[1] == "role" && (args[2] == "add" || args[2] == "remove"):
		u, err := a.UserByUsername(ctx, args[3])
		if errors.Is(err, auth.ErrUserNotFound) {
			return fmt.Errorf("no user named %q", args[3])
		}
		if err != nil {
			return err
		}
		if args[2] == "add" {
			err = a.AddRole(ctx, u.ID, args[4])
		} else {
			err = a.RemoveRole(ctx, u.ID, args[4])
		}
		if errors.Is(err, auth.ErrLastAdmin) {
			return fmt.Errorf("%s is the last enabled admin; make another admin first", u.Username)
		}
		if err != nil {
			return err
		}
		u, err = a.UserByID(ctx, u.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "user %s roles: %s\n", u.Username, strings.Join(u.Roles, ","))
		return nil
	}
	return errors.New(adminUsage)
}

// listUsers prints every user whose name starts with query (in canonical
// form), a page at a time: name, state and roles, one user a line.
func listUsers(ctx context.Context, a *auth.Authenticator, query string, out io.Writer) error {
	q := auth.UserQuery{Limit: 200}
	if query != "" {
		q.Prefix = query
		if c, err := auth.CanonicalUsername(query); err == nil {
			q.Prefix = c
		}
	}
	for {
		page, err := a.ListUsers(ctx, q)
		if err != nil {
			return err
		}
		for _, u := range page {
			state := "enabled"
			if u.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(out, "%s\t%s\t%s\n", u.Username, state, strings.Join(u.Roles, ","))
		}
		if len(page) < q.Limit {
			return nil
		}
		q.After = page[len(page)-1].Username
	}
}

// auditRetention is how long the audit trail is kept.
const auditRetention = 90 * 24 * time.Hour

// pruneAudit deletes audit entries older than auditRetention every
// interval until ctx is done.
func pruneAudit(ctx context.Context, a *auth.Authenticator, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := a.PruneAudit(ctx, auditRetention)
			if err != nil {
				logger.Warn("pruning the audit trail failed", "error", err)
				continue
			}
			logger.Debug("pruned audit entries", "count", n)
		}
	}
}
