package main

import (
	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/internal/web"
	"github.com/sanad-id/sanad/keys"
)

// registerAdmin mounts the operator APIs behind the admin bearer token.
// It returns the guarded group for the components' own admin routes.
func registerAdmin(eng *web.Engine, ks keyring, token string) gin.IRouter {
	admin := eng.Group("", web.RequireBearer(token))
	keys.RegisterAdmin(admin, ks.Service, ks.secrets)
	return admin
}
