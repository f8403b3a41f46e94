package keys

// CurrentKeyID returns the kid of the key that signs for (purpose, alg)
// now: the kid that Sign and SignJWS put on what they sign until the next
// rotation. Code that must name the key before signing (a Data Integrity
// verificationMethod, a credential.Signer's KeyID) reads it here and checks
// the kid Sign returns, since a rotation can take effect between the two
// calls.
func (s *Service) CurrentKeyID(purpose, alg string) (string, error) {
	k, err := s.signingKey(purpose, alg)
	if err != nil {
		return "", err
	}
	return k.rec.KID, nil
}
