package peers_test

import (
	"context"
	"net/http"
	"strings"
	"time"

	ginjwt "github.com/appleboy/gin-jwt/v2"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	"github.com/gin-gonic/gin"
	"github.com/go-chi/jwtauth/v5"
	"github.com/golang-jwt/jwt/v5"
	jwxjwt "github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// newGatehouse is Gatehouse's middleware with its defaults (caches on),
// over the store that holds the benchmark user.
func newGatehouse(store *memstore.Store, opts ...auth.Option) (http.Handler, error) {
	a, err := gatehouse(store, opts...)
	if err != nil {
		return nil, err
	}
	return a.Middleware(ok), nil
}

type claimsKey struct{}

// newGolangJWT is the smallest sensible middleware on golang-jwt v5: one
// reused parser that accepts HS256 only and checks the same registered
// claims Gatehouse checks (exp required, iss, aud), claims in a MapClaims
// put in the request context.
func newGolangJWT() (http.Handler, error) {
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
	)
	key := func(*jwt.Token) (any, error) { return secret, nil }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !found {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		claims := jwt.MapClaims{}
		if _, err := p.ParseWithClaims(token, claims, key); err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		ok.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
	}), nil
}

// newGinNoAuth is gin with the handler and no authentication: the router's
// own share of the gin-jwt figure.
func newGinNoAuth() (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/hello", gin.WrapH(ok))
	return e, nil
}

// newGinJWT is appleboy/gin-jwt v2 on a gin route group, with its defaults:
// HS256 and the claims in the gin context. It checks exp (and, through
// golang-jwt v4, iat and nbf) but has no issuer or audience setting.
func newGinJWT() (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	mw, err := ginjwt.New(&ginjwt.GinJWTMiddleware{
		Realm:       "bench",
		Key:         secret,
		Timeout:     time.Hour,
		IdentityKey: "sub",
	})
	if err != nil {
		return nil, err
	}
	e := gin.New()
	g := e.Group("/", mw.MiddlewareFunc())
	g.GET("/hello", gin.WrapH(ok))
	return e, nil
}

// newAuth0 is auth0/go-jwt-middleware v2 with its validator package: HS256,
// and the issuer and audience that it requires.
func newAuth0() (http.Handler, error) {
	v, err := validator.New(
		func(context.Context) (any, error) { return secret, nil },
		validator.HS256, issuer, []string{audience},
	)
	if err != nil {
		return nil, err
	}
	return jwtmiddleware.New(v.ValidateToken).CheckJWT(ok), nil
}

// newJWTAuth is go-chi/jwtauth v5 (on lestrrat-go/jwx v2): Verifier, then
// Authenticator, validating issuer and audience as well as the times.
func newJWTAuth() (http.Handler, error) {
	ja := jwtauth.New("HS256", secret, nil, jwxjwt.WithIssuer(issuer), jwxjwt.WithAudience(audience))
	return jwtauth.Verifier(ja)(jwtauth.Authenticator(ja)(ok)), nil
}
