// Package verifier lets other services check the access tokens that a
// Gatehouse [github.com/gatehouse/auth.Authenticator] issues, without its user store and without
// any secret: it verifies signatures with the public keys Gatehouse serves
// at /auth/.well-known/jwks.json, or with a static set of public keys.
//
//	v, err := verifier.New(
//		verifier.WithJWKSURL("https://login.example.com/auth/.well-known/jwks.json"),
//		verifier.WithIssuer("https://login.example.com"),
//		verifier.WithAudience("orders"),
//	)
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux.Handle("GET /orders", v.Middleware(http.HandlerFunc(listOrders)))
//
// Inside a protected handler, [ClaimsFromContext] returns the verified
// claims: the user ID, token version, token ID, issuer, audience and times.
//
// # Checks
//
// A token passes when its "kid" names a key of the set, its "alg" is that
// key's algorithm (EdDSA, ES256 or RS256), the signature is valid, "exp" is
// in the future and "iat" not, the "type" claim is "access", "sub", "jti"
// and "ver" are present, and the issuer and audience match when configured.
// The "jku", "x5u" and "jwk" headers are never read. Only public keys are
// held: the verifier cannot sign, and HMAC (HS256) tokens, which only the
// holder of the secret can verify, are refused.
//
// # Keys from a URL
//
// Keys are fetched lazily, on the first verification (or by
// [Verifier.Refresh], to fail fast at startup), and cached for the
// response's Cache-Control max-age, kept between one minute and one day. A
// token whose "kid" is not in the cache causes a refetch, so a new key is
// picked up at once, but at most once per refetch interval
// ([WithRefetchInterval]), so that forged key IDs cannot turn the verifier
// into a flood of requests. When a refresh fails, the cached keys stay in
// use for up to an hour past their expiry. There is no background
// goroutine: all fetching happens inside calls to Verify and Refresh.
//
// # Revocation
//
// The verifier is stateless: it knows no users. A token stays valid here
// until it expires even after Gatehouse has revoked it (the user was
// disabled, or changed the password), because revocation lives in the token
// version stored with the user, which only the Authenticator consults. Keep
// the access TTL short ([github.com/gatehouse/auth.WithAccessTTL]; 5 to 15 minutes suits most
// services), and route the few operations that must see a revocation at
// once through Gatehouse itself (GET /auth/me, or
// [github.com/gatehouse/auth.Authenticator.VerifyAccessToken] in-process). Refresh tokens are
// never accepted here, so a revoked user cannot get new access tokens.
//
// # Errors
//
// Failures wrap the sentinels in this package. [WriteError], the default
// error handler of the middleware, answers with the same JSON as Gatehouse:
// 401 {"detail":"Not authenticated","error":"invalid_request"} without a
// token, 401 {"detail":"Could not validate credentials","error":"invalid_token"}
// for a bad one, and 503 when no keys could be had.
package verifier
