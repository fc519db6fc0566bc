package auth

import (
	"encoding/base32"
	"fmt"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTPKey rebuilds the otp.Key of a base32 secret made by NewTOTPKey, for showing the
// QR code of a pending secret again without minting a new one.
func TOTPKey(issuer, accountEmail, secret string) (*otp.Key, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return nil, fmt.Errorf("totp secret: %w", err)
	}
	opts := totpOpts(issuer, accountEmail)
	opts.Secret = raw
	return totp.Generate(opts)
}
