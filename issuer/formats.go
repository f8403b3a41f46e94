package issuer

import "github.com/sanad-id/sanad/credential"

// DefaultFormats returns the formats an Issuer produces when Config.Formats
// is nil: jwt_vc_json, SD-JWT VC (dc+sd-jwt, which also answers draft-13
// requests for vc+sd-jwt) and ldp_vc. mso_mdoc is added to the map when it
// exists.
func DefaultFormats() map[string]Format {
	return map[string]Format{
		credential.FormatJWTVC:   jwtVCFormat{},
		credential.FormatSDJWTVC: sdJWTVCFormat{},
		credential.FormatLDPVC:   ldpVCFormat{},
	}
}
