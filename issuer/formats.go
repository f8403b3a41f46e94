package issuer

import "github.com/sanad-id/sanad/credential"

// DefaultFormats returns the formats an Issuer produces when Config.Formats
// is nil: jwt_vc_json and SD-JWT VC (dc+sd-jwt, which also answers
// draft-13 requests for vc+sd-jwt). ldp_vc and mso_mdoc are added to the
// map when they exist.
func DefaultFormats() map[string]Format {
	return map[string]Format{
		credential.FormatJWTVC:   jwtVCFormat{},
		credential.FormatSDJWTVC: sdJWTVCFormat{},
	}
}
