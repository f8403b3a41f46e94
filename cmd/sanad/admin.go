package main

import (
	"github.com/sanad-id/sanad/internal/web"
	"github.com/sanad-id/sanad/keys"
)

// registerAdmin mounts the operator APIs behind the admin bearer token.
func registerAdmin(eng *web.Engine, ks keyring, token string) {
	admin := eng.Group("", web.RequireBearer(token))
	keys.RegisterAdmin(admin, ks.Service, ks.secrets)
}
