package webhookauth

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultFrankieIssuer is the iss FrankieOne puts in its webhook JWTs.
const DefaultFrankieIssuer = "io.frankiefinancial.kycaml"

// FrankieOne retries a notification for about 12.5 hours and its JWT has no exp, so a
// token is accepted for 13 hours after iat, and up to 5 minutes early for clock skew.
const (
	maxTokenAge  = 13 * time.Hour
	maxClockSkew = 5 * time.Minute
)

// maxTokenBytes bounds the work done on an unauthenticated header; real tokens are ~1 KB.
const maxTokenBytes = 16 << 10

// minRSABits refuses keys that no longer resist factoring.
const minRSABits = 2048

// JWTVerifier checks the RS256 JWT that FrankieOne sends in the Authorization header.
// The JWT covers no body hash, so it proves only who sent the notification: the body
// stays a hint and the worker fetches the result from FrankieOne's API.
type JWTVerifier struct {
	PublicKey *rsa.PublicKey
	Issuer    string           // empty means DefaultFrankieIssuer
	Now       func() time.Time // nil means time.Now
}

// Verify checks an Authorization header value, "Bearer <jwt>" or FrankieOne's own
// "Bearer: <jwt>".
func (v *JWTVerifier) Verify(authorizationHeader string) error {
	if v.PublicKey == nil {
		return refuse(ReasonNotConfigured)
	}
	raw, ok := bearerToken(authorizationHeader)
	if !ok {
		return refuse(ReasonMissingToken)
	}
	if len(raw) > maxTokenBytes {
		return refuse(ReasonMalformedToken)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	issuer := v.Issuer
	if issuer == "" {
		issuer = DefaultFrankieIssuer
	}

	// WithValidMethods is what refuses "none", HS256 keyed with the public key and every
	// other algorithm; the keyfunc's type check is a second lock on the same door.
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		if _, ok := t.Method.(*jwt.SigningMethodRSA); !ok || t.Method.Alg() != "RS256" {
			return nil, errors.New("unexpected signing method")
		}
		return v.PublicKey, nil
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithTimeFunc(now), // exp and nbf are checked when present
	)
	if err != nil {
		return refuse(jwtReason(raw, err))
	}
	if claims.Issuer != issuer {
		return refuse(ReasonIssuerMismatch)
	}
	if claims.IssuedAt == nil {
		return refuse(ReasonMissingIAT)
	}
	iat, t := claims.IssuedAt.Time, now()
	if iat.Before(t.Add(-maxTokenAge)) {
		return refuse(ReasonIATTooOld)
	}
	if iat.After(t.Add(maxClockSkew)) {
		return refuse(ReasonIATInFuture)
	}
	return nil
}

// bearerToken accepts the scheme in any case (RFC 9110), with or without FrankieOne's colon.
func bearerToken(h string) (string, bool) {
	h = strings.TrimSpace(h)
	const scheme = "bearer"
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	rest := h[len(scheme):]
	rest, colon := strings.CutPrefix(rest, ":")
	if !colon && !strings.HasPrefix(rest, " ") && !strings.HasPrefix(rest, "\t") {
		return "", false // "Bearerxyz" is not a bearer token
	}
	tok := strings.TrimSpace(rest)
	return tok, tok != ""
}

// jwtReason tells apart, for the integration's health page, a sender using the wrong
// algorithm from one using the wrong key. Reading alg from the unverified header is safe
// here: the token has already been refused.
func jwtReason(raw string, err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return ReasonMalformedToken
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		if t, _, perr := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{}); perr == nil && t.Method != nil && t.Method.Alg() != "RS256" {
			return ReasonAlgorithm
		}
		if errors.Is(err, jwt.ErrTokenUnverifiable) {
			return ReasonAlgorithm // alg missing or unknown to the library
		}
		return ReasonBadSignature
	default:
		// Expired or not yet valid (exp, nbf), or a claim of the wrong JSON type.
		return ReasonInvalidClaims
	}
}

// ParseRSAPublicKeyPEM reads the public key FrankieOne hands over: a PEM "PUBLIC KEY"
// (PKIX), "RSA PUBLIC KEY" (PKCS #1) or a "CERTIFICATE" carrying one.
func ParseRSAPublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found in the public key")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default: // "PUBLIC KEY", and mislabelled blocks that still hold PKIX or PKCS #1
		if key, err = x509.ParsePKIXPublicKey(block.Bytes); err != nil {
			if k, err1 := x509.ParsePKCS1PublicKey(block.Bytes); err1 == nil {
				key, err = k, nil
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	rsaKey, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T, want RSA", key)
	}
	if bits := rsaKey.N.BitLen(); bits < minRSABits {
		return nil, fmt.Errorf("RSA public key has %d bits, want at least %d", bits, minRSABits)
	}
	return rsaKey, nil
}
