package auth

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/auth/internal/cache"
)

// Paths of the admin API and of API keys, introspection and revocation.
const (
	pathAdminUsers    = "/auth/admin/users"
	pathAdminUser     = "/auth/admin/users/{id}"
	pathAdminSessions = "/auth/admin/users/{id}/sessions"
	pathAdminAudit    = "/auth/admin/audit"
	pathAPIKeys       = "/auth/api-keys"
	pathAPIKey        = "/auth/api-keys/{id}"
	pathIntrospect    = "/auth/introspect"
	pathRevoke        = "/auth/revoke"
)

// Page sizes of the admin listings.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// errNoSuchUser is the admin API's 404 for a user ID, which only the HTTP
// layer produces (elsewhere a missing user is ErrUserNotFound).
var errNoSuchUser = &kindError{kind: errNotFound, msg: "auth: admin: no such user"}

// adminState is what the Authenticator keeps for administration and API
// keys: the store's optional abilities, under the store timeout, and the
// caches and keys of API keys and cursors.
type adminState struct {
	lister UserLister  // nil when the store cannot list users
	keys   APIKeyStore // nil unless WithAPIKeys
	audit  AuditStore  // nil when the store keeps no audit trail

	hashKey   []byte
	keyCache  *cache.Bounded[*keyEntry] // by key; nil when the user cache is off
	keyEnded  *cache.Bounded[bool]      // IDs of keys this instance revoked
	keyBudget Limiter                   // per address; nil when off
	cursors   cursors

	// mu serializes the changes that could remove the last admin, so that
	// two of them on this instance cannot both pass the check.
	mu *sync.Mutex
}

// initAdmin finds the store's optional abilities and sets up API keys.
func (a *Authenticator) initAdmin(store UserStore) error {
	d := a.cfg.storeTimeout
	a.adm.mu = new(sync.Mutex)
	if l, ok := store.(UserLister); ok {
		a.adm.lister = timedLister{l, d}
	}
	if s, ok := store.(AuditStore); ok {
		a.adm.audit = timedAudit{s, d}
		a.auditHooks()
	}
	a.adm.cursors = a.signer.Derive("gatehouse admin cursors")
	a.adm.keyEnded = cache.New[bool](userCacheSize)
	if !a.cfg.admin.apiKeys {
		return nil
	}
	ks, ok := store.(APIKeyStore)
	if !ok {
		return configErr(ErrInvalidConfig, "auth: WithAPIKeys needs a store that implements APIKeyStore")
	}
	a.adm.keys = timedKeys{ks, d}
	a.adm.hashKey = a.cfg.admin.hashKey
	if a.adm.hashKey == nil {
		a.adm.hashKey = a.signer.Derive("gatehouse api key hashes")
	}
	if a.cfg.userCacheTTL > 0 {
		a.adm.keyCache = cache.New[*keyEntry](userCacheSize)
	}
	a.adm.keyBudget = a.cfg.admin.keyLimiter
	if !a.cfg.admin.customLimit {
		var err error
		if a.adm.keyBudget, err = memoryLimiter(a.cfg.admin.keyLimit, &a.cfg); err != nil {
			return err
		}
	}
	return nil
}

// ListUsers returns a page of users, as [UserLister.ListUsers] does. It
// returns [ErrAdminUnsupported] when the store cannot list users. Limits
// outside 1 to 201 are clamped (a page and one more, to tell whether
// another page follows).
func (a *Authenticator) ListUsers(ctx context.Context, q UserQuery) ([]*User, error) {
	if a.adm.lister == nil {
		return nil, ErrAdminUnsupported
	}
	q.Limit = min(max(q.Limit, 1), maxPageSize+1)
	list, err := a.adm.lister.ListUsers(ctx, q)
	if err != nil {
		return nil, a.storeErr("list users", err)
	}
	return list, nil
}

// keepAnAdmin returns ErrLastAdmin unless an enabled user other than
// exceptID holds the admin role.
func (a *Authenticator) keepAnAdmin(ctx context.Context, exceptID string) error {
	enabled := false
	list, err := a.ListUsers(ctx, UserQuery{Role: a.cfg.admin.role, Disabled: &enabled, Limit: 2})
	if err != nil {
		return err
	}
	for _, u := range list {
		if u.ID != exceptID {
			return nil
		}
	}
	return ErrLastAdmin
}

// adminRoutes adds the routes of the admin API, API keys, introspection
// and revocation that the configuration turns on.
func (h *handler) adminRoutes() {
	h.routes[pathRevoke] = route{http.MethodPost, h.revoke}
	if h.a.cfg.admin.role != "" {
		h.routes[pathAdminUsers] = route{http.MethodGet, h.adminListUsers}
		h.routes[pathAdminUser] = route{"", h.byMethod(map[string]func(http.ResponseWriter, *http.Request) error{
			http.MethodGet: h.adminGetUser, http.MethodPatch: h.adminPatchUser, http.MethodDelete: h.adminDeleteUser,
		})}
		h.routes[pathAdminSessions] = route{"", h.byMethod(map[string]func(http.ResponseWriter, *http.Request) error{
			http.MethodGet: h.adminListSessions, http.MethodDelete: h.adminRevokeSessions,
		})}
		h.routes[pathAdminAudit] = route{http.MethodGet, h.adminAudit}
	}
	if h.a.adm.keys != nil {
		h.routes[pathAPIKeys] = route{"", h.byMethod(map[string]func(http.ResponseWriter, *http.Request) error{
			http.MethodGet: h.listAPIKeys, http.MethodPost: h.createAPIKey,
		})}
		h.routes[pathAPIKey] = route{http.MethodDelete, h.deleteAPIKey}
		h.routes[pathIntrospect] = route{http.MethodPost, h.introspect}
	}
}

// byMethod serves a path that takes several methods.
func (h *handler) byMethod(m map[string]func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	allow := make([]string, 0, len(m))
	for k := range m {
		allow = append(allow, k)
	}
	slices.Sort(allow)
	return func(w http.ResponseWriter, r *http.Request) error {
		serve, ok := m[r.Method]
		if !ok {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return errMethodNotAllowed
		}
		return serve(w, r)
	}
}

// adminPattern maps a path with an ID in it to its route, and reports
// whether it did. An ID is one path segment, not empty.
func adminPattern(path string) (string, bool) {
	if rest, ok := strings.CutPrefix(path, pathAPIKeys+"/"); ok {
		return pathAPIKey, rest != "" && !strings.Contains(rest, "/")
	}
	rest, ok := strings.CutPrefix(path, pathAdminUsers+"/")
	if !ok {
		return "", false
	}
	id, tail, _ := strings.Cut(rest, "/")
	switch {
	case id == "":
		return "", true
	case !strings.Contains(rest, "/"):
		return pathAdminUser, true
	case tail == "sessions":
		return pathAdminSessions, true
	}
	return "", true
}

// pathID returns the ID segment of a path matched by adminPattern.
func pathID(r *http.Request, prefix string) string {
	id, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, prefix), "/")
	return id
}

// requireAdmin authenticates the request with an access token (never an
// API key) and checks the admin role. It returns a context that names the
// admin as the actor of what follows.
func (h *handler) requireAdmin(r *http.Request) (*http.Request, *User, error) {
	v, err := h.a.authenticateRequest(r)
	if err != nil {
		return nil, nil, err
	}
	if !v.shared.HasRole(h.a.cfg.admin.role) {
		return nil, nil, ErrInsufficientRole
	}
	uc := v.into(r.Context())
	return r.WithContext(uc), uc.v.user(), nil
}

// adminUserJSON is a user as the admin API shows it: never the hash.
type adminUserJSON struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Disabled  bool      `json:"disabled"`
	Roles     []string  `json:"roles"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func adminUser(u *User) adminUserJSON {
	return adminUserJSON{ID: u.ID, Username: u.Username, Disabled: u.Disabled, Roles: orEmpty(u.Roles),
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
}

// queryProblem is a validation error for a query parameter.
func queryProblem(name, typ, msg string) error {
	return &ValidationError{Problems: []FieldError{{Loc: []string{"query", name}, Msg: msg, Type: typ}}}
}

// pageParams reads limit and after from the query, the same way for every
// listing: limit 1 to 200 (default 50), and after a cursor of this
// listing and query, opened to its position.
func (h *handler) pageParams(q url.Values, kind, query string) (limit int, after string, err error) {
	limit = defaultPageSize
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageSize {
			return 0, "", queryProblem("limit", "out_of_range", "limit must be an integer from 1 to 200")
		}
		limit = n
	}
	if c := q.Get("after"); c != "" {
		if after, err = h.a.adm.cursors.open(kind, query, c); err != nil {
			return 0, "", err
		}
	}
	return limit, after, nil
}

// singleValues refuses a query parameter given twice: which one counts
// would be a guess.
func singleValues(q url.Values, names ...string) error {
	for _, n := range names {
		if len(q[n]) > 1 {
			return queryProblem(n, "duplicate_key", "Parameter given more than once")
		}
	}
	return nil
}

func (h *handler) adminListUsers(w http.ResponseWriter, r *http.Request) error {
	r, _, err := h.requireAdmin(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := singleValues(q, "limit", "after", "q", "disabled"); err != nil {
		return err
	}
	uq := UserQuery{}
	if s := q.Get("q"); s != "" {
		if len(s) > 1020 {
			return queryProblem("q", "string_too_long", "q must be at most 1020 bytes")
		}
		// A prefix that has no canonical form is searched as given: it
		// matches nothing a canonical name could hold.
		uq.Prefix = s
		if strings.Contains(s, "@") {
			uq.Prefix = canonicalEmail(s) // a search by email
		} else if c, err := CanonicalUsername(s); err == nil {
			uq.Prefix = c
		}
	}
	switch q.Get("disabled") {
	case "":
	case "true", "false":
		d := q.Get("disabled") == "true"
		uq.Disabled = &d
	default:
		return queryProblem("disabled", "bool_parsing", "disabled must be true or false")
	}
	query := "q=" + uq.Prefix + "\x00disabled=" + q.Get("disabled")
	limit, after, err := h.pageParams(q, "users", query)
	if err != nil {
		return err
	}
	uq.After, uq.Limit = after, limit+1
	list, err := h.a.ListUsers(r.Context(), uq)
	if err != nil {
		return err
	}
	var out struct {
		Users []adminUserJSON `json:"users"`
		Next  *string         `json:"next"`
	}
	out.Users, out.Next = pageOf(list, limit, adminUser, func(u *User) string {
		return h.a.adm.cursors.issue("users", query, u.Username)
	})
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pageOf turns the items a listing read (a page and one more, when there
// is a next page) into the page's views and the cursor of the next page,
// made from the page's last item; nil on the last page.
func pageOf[T, V any](list []T, limit int, view func(T) V, cursor func(T) string) ([]V, *string) {
	out := make([]V, 0, min(len(list), limit))
	for _, item := range list[:min(len(list), limit)] {
		out = append(out, view(item))
	}
	if len(list) <= limit {
		return out, nil
	}
	next := cursor(list[limit-1])
	return out, &next
}

// targetUser reads the user named by the path, or errNoSuchUser.
func (h *handler) targetUser(r *http.Request) (*User, error) {
	u, err := h.a.UserByID(r.Context(), pathID(r, pathAdminUsers+"/"))
	if errors.Is(err, ErrUserNotFound) {
		return nil, errNoSuchUser
	}
	return u, err
}

func (h *handler) adminGetUser(w http.ResponseWriter, r *http.Request) error {
	r, _, err := h.requireAdmin(r)
	if err != nil {
		return err
	}
	u, err := h.targetUser(r)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, adminUser(u))
	return nil
}

// readObject decodes a JSON object body: each member named in dst is
// decoded into the pointer dst holds for it; absent members stay as they
// are.
// Member names match exactly, and each member of the wrong type is a
// validation problem of its own.
func readObject(w http.ResponseWriter, r *http.Request, dst map[string]any) error {
	if mediaType(r) != "application/json" {
		return errUnsupportedMedia
	}
	var verr ValidationError
	members, err := decodeMembers(http.MaxBytesReader(w, r.Body, maxBodyBytes), slices.Collect(maps.Keys(dst)), &verr)
	if err != nil {
		return err
	}
	for _, m := range members {
		if string(m.raw) == "null" || json.Unmarshal(m.raw, dst[m.key]) != nil {
			verr.add(m.key, "type_error", "Input has the wrong type")
		}
	}
	return verr.err()
}

func (h *handler) adminPatchUser(w http.ResponseWriter, r *http.Request) error {
	r, admin, err := h.requireAdmin(r)
	if err != nil {
		return err
	}
	u, err := h.targetUser(r)
	if err != nil {
		return err
	}
	var disabled *bool
	var roles *[]string
	if err := readObject(w, r, map[string]any{"disabled": &disabled, "roles": &roles}); err != nil {
		return err
	}
	ctx := r.Context()
	// Every refusal that depends only on the request comes before any
	// write, so that a refused PATCH changes nothing.
	var want []string
	if roles != nil {
		if want, err = nameSet("roles", *roles); err != nil {
			return err
		}
		if u.ID == admin.ID && !slices.Contains(want, h.a.cfg.admin.role) {
			return ErrSelfLockout
		}
	}
	if disabled != nil && *disabled && u.ID == admin.ID {
		return ErrSelfLockout
	}
	if roles != nil {
		if err := h.a.SetRoles(ctx, u.ID, want); err != nil {
			return h.notFound(err)
		}
	}
	if disabled != nil {
		if err := h.a.adminSetDisabled(ctx, admin, u.ID, *disabled); err != nil {
			return h.notFound(err)
		}
	}
	u, err = h.targetUser(r)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, adminUser(u))
	return nil
}

// adminSetDisabled is SetDisabled with the admin API's checks.
func (a *Authenticator) adminSetDisabled(ctx context.Context, admin *User, id string, disabled bool) error {
	if !disabled {
		u, err := a.UserByID(ctx, id)
		if err != nil || !u.Disabled {
			return err
		}
		if err := a.SetDisabled(ctx, id, false); err != nil {
			return err
		}
		a.record(ctx, "user.enabled", id, nil)
		return nil
	}
	if id == admin.ID {
		return ErrSelfLockout
	}
	a.adm.mu.Lock()
	defer a.adm.mu.Unlock()
	u, err := a.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if u.HasRole(a.cfg.admin.role) && !u.Disabled {
		if err := a.keepAnAdmin(ctx, id); err != nil {
			return err
		}
	}
	return a.SetDisabled(ctx, id, true)
}

// notFound turns a user that vanished midway into the admin API's 404.
func (h *handler) notFound(err error) error {
	if errors.Is(err, ErrUserNotFound) {
		return errNoSuchUser
	}
	return err
}

func (h *handler) adminDeleteUser(w http.ResponseWriter, r *http.Request) error {
	r, admin, err := h.requireAdmin(r)
	if err != nil {
		return err
	}
	u, err := h.targetUser(r)
	if err != nil {
		return err
	}
	if u.ID == admin.ID {
		return ErrSelfLockout
	}
	a := h.a
	ctx := r.Context()
	a.adm.mu.Lock()
	defer a.adm.mu.Unlock()
	if u.HasRole(a.cfg.admin.role) && !u.Disabled {
		if err := a.keepAnAdmin(ctx, u.ID); err != nil {
			return err
		}
	}
	if err := a.DeleteUser(ctx, u.ID); err != nil {
		return h.notFound(err)
	}
	a.record(ctx, auditUserDeleted, u.ID, map[string]any{"username": u.Username})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) adminListSessions(w http.ResponseWriter, r *http.Request) error {
	r, _, err := h.requireAdmin(r)
	if err != nil {
		return err
	}
	list, err := h.a.Sessions(r.Context(), pathID(r, pathAdminUsers+"/"))
	if err != nil {
		return h.notFound(err)
	}
	out := make([]sessionJSON, 0, len(list))
	for _, s := range list {
		out = append(out, sessionJSON{ID: s.ID, CreatedAt: s.CreatedAt, LastUsedAt: s.LastUsedAt, ExpiresAt: s.ExpiresAt,
			UserAgent: s.UserAgent, IP: s.IP})
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) adminRevokeSessions(w http.ResponseWriter, r *http.Request) error {
	r, _, err := h.requireAdmin(r)
	if err != nil {
		return err
	}
	id := pathID(r, pathAdminUsers+"/")
	if err := h.a.LogoutAll(r.Context(), id); err != nil {
		return h.notFound(err)
	}
	h.a.record(r.Context(), auditSessionsRevoked, id, nil)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// auditJSON is an audit entry as the admin API shows it.
type auditJSON struct {
	ID       string          `json:"id"`
	Time     time.Time       `json:"time"`
	Action   string          `json:"action"`
	ActorID  string          `json:"actor_id"`
	TargetID string          `json:"target_id"`
	IP       string          `json:"ip"`
	Detail   json.RawMessage `json:"detail"`
}

func auditView(e *AuditEntry) auditJSON {
	detail := json.RawMessage(e.Detail)
	if !json.Valid(detail) {
		detail = json.RawMessage("{}")
	}
	return auditJSON{ID: e.ID, Time: e.Time.UTC(), Action: e.Action, ActorID: e.ActorID,
		TargetID: e.TargetID, IP: e.IP, Detail: detail}
}

func (h *handler) adminAudit(w http.ResponseWriter, r *http.Request) error {
	r, _, err := h.requireAdmin(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := singleValues(q, "limit", "after", "user"); err != nil {
		return err
	}
	user := q.Get("user")
	limit, before, err := h.pageParams(q, "audit", "user="+user)
	if err != nil {
		return err
	}
	list, err := h.a.AuditTrail(r.Context(), AuditQuery{UserID: user, Before: before, Limit: limit + 1})
	if err != nil {
		return err
	}
	var out struct {
		Entries []auditJSON `json:"entries"`
		Next    *string     `json:"next"`
	}
	out.Entries, out.Next = pageOf(list, limit, auditView, func(e *AuditEntry) string {
		return h.a.adm.cursors.issue("audit", "user="+user, e.ID)
	})
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
	return nil
}
