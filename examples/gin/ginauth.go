package main

import (
	"net/http"

	"github.com/gatehouse/auth"
	"github.com/gin-gonic/gin"
)

// userKey is the gin context key under which requireUser stores the user.
const userKey = "user"

// requireUser adapts a.Middleware to gin. A request with a valid access
// token continues with the user in gin's context (read it with currentUser)
// and in the request's context (auth.UserFromContext). Any other request is
// answered by the middleware's error handler, a JSON 401 or 403, and
// aborted, so no later handler runs.
func requireUser(a *auth.Authenticator) gin.HandlerFunc {
	return func(c *gin.Context) {
		passed := false
		a.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			passed = true
			c.Request = r // carries the user for auth.UserFromContext
		})).ServeHTTP(c.Writer, c.Request)
		if !passed {
			c.Abort() // the response is already written
			return
		}
		u, _ := auth.UserFromContext(c.Request.Context())
		c.Set(userKey, u)
		c.Next()
	}
}

// currentUser returns the user that requireUser authenticated; ok is false
// on routes without it.
func currentUser(c *gin.Context) (u *auth.User, ok bool) {
	v, _ := c.Get(userKey)
	u, ok = v.(*auth.User)
	return u, ok && u != nil
}
