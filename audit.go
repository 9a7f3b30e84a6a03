package auth

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/google/uuid"
)

// Audit actions recorded by the Authenticator. Security events reported
// through [Hooks] are recorded under the names below as well.
const (
	auditUserUpdated     = "user.updated"
	auditUserDeleted     = "user.deleted"
	auditSessionsRevoked = "user.sessions_revoked"
	auditKeyCreated      = "api_key.created"
	auditKeyRevoked      = "api_key.revoked"
	auditReuseDetected   = "reuse_detected"
	auditPasswordChanged = "password_changed"
	auditUserDisabled    = "user.disabled"
)

// auditHooks wraps the hooks of the security events so that each is also
// recorded in the audit trail, after the application's own hook.
func (a *Authenticator) auditHooks() {
	wrap := func(hook func(context.Context, Event), action string, self bool) func(context.Context, Event) {
		return func(ctx context.Context, e Event) {
			if hook != nil {
				hook(ctx, e)
			}
			if self {
				ctx = withActor(ctx, e.UserID)
			}
			detail := map[string]any{}
			if e.SessionID != "" {
				detail["session_id"] = e.SessionID
			}
			a.record(ctx, action, e.UserID, detail)
		}
	}
	h := &a.cfg.hooks
	h.ReuseDetected = wrap(h.ReuseDetected, auditReuseDetected, false)
	h.PasswordChanged = wrap(h.PasswordChanged, auditPasswordChanged, true)
	h.UserDisabled = wrap(h.UserDisabled, auditUserDisabled, false)
}

// actorKey carries the ID of who acts, when it is not the authenticated
// user of the context.
type actorKey struct{}

func withActor(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, actorKey{}, id)
}

// actorOf returns who acts in ctx: set by withActor, or the user that the
// middleware or the admin API authenticated; "" for the application's own
// code.
func actorOf(ctx context.Context) string {
	if id, ok := ctx.Value(actorKey{}).(string); ok {
		return id
	}
	if v, _ := ctx.Value(userKey{}).(*authenticated); v != nil {
		return v.shared.ID
	}
	return ""
}

// record appends an entry to the audit trail, when the store keeps one. A
// failure is logged, not returned: what it records has happened already.
func (a *Authenticator) record(ctx context.Context, action, targetID string, detail map[string]any) {
	if a.adm.audit == nil {
		return
	}
	d, err := json.Marshal(detail)
	if err != nil || detail == nil {
		d = []byte("{}")
	}
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	e := &AuditEntry{
		ID: id.String(), Time: a.now(), Action: action, ActorID: actorOf(ctx),
		TargetID: targetID, IP: clientOf(ctx).ip, Detail: string(d),
	}
	if err := a.adm.audit.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		a.failureLog().LogAttrs(ctx, slog.LevelError, "auth: writing the audit trail failed",
			slog.String("action", action), slog.String("target_id", targetID), slog.String("error", err.Error()))
	}
}

// AuditTrail returns a page of the audit trail, newest first, as
// [AuditStore.AuditEntries] does. It returns [ErrAdminUnsupported] when the
// store keeps no audit trail. Limits outside 1 to 201 are clamped.
func (a *Authenticator) AuditTrail(ctx context.Context, q AuditQuery) ([]*AuditEntry, error) {
	if a.adm.audit == nil {
		return nil, ErrAdminUnsupported
	}
	q.Limit = min(max(q.Limit, 1), maxPageSize+1)
	list, err := a.adm.audit.AuditEntries(ctx, q)
	if err != nil {
		return nil, a.storeErr("read audit trail", err)
	}
	return list, nil
}

// PruneAudit deletes audit entries older than maxAge and returns how many
// it deleted. Nothing calls it behind your back: run it from a ticker or a
// cron job, as the example server does. It does nothing when the store
// keeps no audit trail.
func (a *Authenticator) PruneAudit(ctx context.Context, maxAge time.Duration) (int, error) {
	if a.adm.audit == nil {
		return 0, nil
	}
	n, err := a.adm.audit.DeleteAudit(ctx, a.now().Add(-maxAge))
	if err != nil {
		return n, a.storeErr("prune audit trail", err)
	}
	return n, nil
}
