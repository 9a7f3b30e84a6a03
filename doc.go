// Package auth is user authentication for net/http services: registration,
// password login, JWT access and refresh tokens, password changes, and a
// middleware that protects routes.
//
// Build an [Authenticator] around a [UserStore], mount its [Authenticator.Handler],
// and wrap the routes that need a user with [Authenticator.Middleware]:
//
//	store := memstore.New() // or sqlstore.New(db) for SQLite, PostgreSQL, MySQL
//	a, err := auth.New(store, auth.WithSecret(secret))
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux := http.NewServeMux()
//	mux.Handle("/auth/", a.Handler())
//	mux.Handle("GET /hello", a.Middleware(http.HandlerFunc(hello)))
//
// Inside a protected handler, [UserFromContext] returns the user.
//
// # Security model
//
// Passwords are hashed with argon2id and stored as PHC strings; parameters
// read back from a stored hash are bounds-checked. Tokens are JWTs signed
// with HS256, EdDSA, ES256 or RS256 (see [Key]). Each carries its key's ID;
// verification uses the key of that ID and only that key's algorithm, with
// "exp" required and "iat" not in the future. Keys rotate without logging
// anyone out (see [WithVerificationKeys]), and asymmetric keys are published
// as a JWKS so that other services can verify tokens (package verifier).
// Each token carries the user's token version: changing the password or
// disabling the user increments it, which revokes every earlier token at
// once. An unknown username and a wrong password cost the same time and give
// the same answer.
//
// # Sessions and caching
//
// With a store that also implements [SessionStore] (memstore and sqlstore
// do), every login starts a session: refresh tokens rotate on each use, a
// replayed one revokes its session, and users can log out, log out
// everywhere and list their sessions. The middleware caches verified tokens
// and user state ([WithTokenCacheSize], [WithUserCacheTTL]): a change made
// through an Authenticator takes effect on it at once, and on other
// instances sharing the store within the cache TTL.
//
// # Integrations
//
// [WithHooks] reports moments such as logins and password changes and may
// veto registration and login; [WithClaims] adds application claims to
// access tokens; [Authenticator.CookieHandler] serves browser apps with the
// refresh token in an HttpOnly cookie. The endpoints are described by an
// OpenAPI 3.1 document ([OpenAPI]).
//
// # Abuse resistance
//
// Every argon2id hash runs in one of a few slots ([WithHashConcurrency]), so a
// burst of logins cannot take more than slots × 64 MiB for hashing; past a
// short wait ([WithHashWait]) requests get 503 and Retry-After. Failed logins
// are throttled per username and per client address ([WithLoginLimits],
// [WithTrustedProxy]), with budgets kept in memory or shared through a
// [Limiter] such as the one in the redislimit module; a throttled attempt is
// answered 429 without checking the password. New passwords must pass a
// [PasswordPolicy], by default [DefaultPasswordPolicy]. SECURITY.md in the
// module lists what is and is not covered.
//
// # Errors
//
// Every failure wraps one of the sentinel errors (ErrInvalidCredentials,
// ErrInvalidToken, ErrUnavailable, ...), which [WriteError] maps to HTTP status
// codes and JSON bodies in one place. Error text never reaches a client.
package auth
