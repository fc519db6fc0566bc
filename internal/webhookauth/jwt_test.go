package webhookauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func newRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pkixPEM(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func signRS256(t testing.TB, key *rsa.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func frankieClaims(iat time.Time) jwt.MapClaims {
	return jwt.MapClaims{"iss": DefaultFrankieIssuer, "iat": iat.Unix(), "sub": "notification"}
}

func TestJWTVerify(t *testing.T) {
	key := newRSAKey(t)
	otherKey := newRSAKey(t)
	pubPEM := pkixPEM(t, &key.PublicKey)

	valid := signRS256(t, key, frankieClaims(testNow.Add(-time.Minute)))
	hsForged, err := jwt.NewWithClaims(jwt.SigningMethodHS256, frankieClaims(testNow)).SignedString(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	hsForgedDER, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, frankieClaims(testNow)).SignedString(x509.MarshalPKCS1PublicKey(&key.PublicKey))
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, frankieClaims(testNow)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	es256, _ := jwt.NewWithClaims(jwt.SigningMethodES256, frankieClaims(testNow)).SignedString(ecKey)
	ps256, _ := jwt.NewWithClaims(jwt.SigningMethodPS256, frankieClaims(testNow)).SignedString(key)
	// RS256 header, valid signature of the original token, payload swapped for another issuer's.
	parts := strings.Split(valid, ".")
	swappedPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"io.frankiefinancial.kycaml","iat":1}`)) + "." + parts[2]

	tests := []struct {
		name   string
		header string
		issuer string
		want   string
	}{
		{"valid, Bearer", "Bearer " + valid, "", ""},
		{"valid, Bearer: (FrankieOne's form)", "Bearer: " + valid, "", ""},
		{"valid, Bearer: without space", "Bearer:" + valid, "", ""},
		{"valid, lower-case scheme", "bearer " + valid, "", ""},
		{"valid, configured issuer", "Bearer " + signRS256(t, key, jwt.MapClaims{"iss": "uat.frankie", "iat": testNow.Unix()}), "uat.frankie", ""},
		{"iat at the edge of 13 h", "Bearer " + signRS256(t, key, frankieClaims(testNow.Add(-13*time.Hour))), "", ""},
		{"iat 4 min in the future", "Bearer " + signRS256(t, key, frankieClaims(testNow.Add(4*time.Minute))), "", ""},
		{"wrong key", "Bearer " + signRS256(t, otherKey, frankieClaims(testNow)), "", ReasonBadSignature},
		{"payload swapped", "Bearer " + swappedPayload, "", ReasonBadSignature},
		{"HS256 forged with the public key PEM", "Bearer " + hsForged, "", ReasonAlgorithm},
		{"HS256 forged with the public key DER", "Bearer " + hsForgedDER, "", ReasonAlgorithm},
		{"alg none", "Bearer " + none, "", ReasonAlgorithm},
		{"alg none, signature stripped", "Bearer " + strings.TrimSuffix(none, "."), "", ReasonMalformedToken},
		{"ES256", "Bearer " + es256, "", ReasonAlgorithm},
		{"PS256 with the right key", "Bearer " + ps256, "", ReasonAlgorithm},
		{"wrong issuer", "Bearer " + signRS256(t, key, jwt.MapClaims{"iss": "evil.example", "iat": testNow.Unix()}), "", ReasonIssuerMismatch},
		{"missing issuer", "Bearer " + signRS256(t, key, jwt.MapClaims{"iat": testNow.Unix()}), "", ReasonIssuerMismatch},
		{"default issuer when another is configured", "Bearer " + valid, "uat.frankie", ReasonIssuerMismatch},
		{"iat 14 h old", "Bearer " + signRS256(t, key, frankieClaims(testNow.Add(-14*time.Hour))), "", ReasonIATTooOld},
		{"iat 10 min in the future", "Bearer " + signRS256(t, key, frankieClaims(testNow.Add(10*time.Minute))), "", ReasonIATInFuture},
		{"missing iat", "Bearer " + signRS256(t, key, jwt.MapClaims{"iss": DefaultFrankieIssuer}), "", ReasonMissingIAT},
		{"iat as a string", "Bearer " + signRS256(t, key, jwt.MapClaims{"iss": DefaultFrankieIssuer, "iat": "yesterday"}), "", ReasonMalformedToken},
		{"expired exp is still honoured", "Bearer " + signRS256(t, key, jwt.MapClaims{"iss": DefaultFrankieIssuer, "iat": testNow.Unix(), "exp": testNow.Add(-time.Second).Unix()}), "", ReasonInvalidClaims},
		{"missing header", "", "", ReasonMissingToken},
		{"scheme only", "Bearer", "", ReasonMissingToken},
		{"scheme and colon only", "Bearer: ", "", ReasonMissingToken},
		{"no scheme", valid, "", ReasonMissingToken},
		{"Basic scheme", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), "", ReasonMissingToken},
		{"scheme glued to token", "Bearer" + valid, "", ReasonMissingToken},
		{"garbage", "Bearer not.a.jwt", "", ReasonMalformedToken},
		{"two segments", "Bearer " + parts[0] + "." + parts[1], "", ReasonMalformedToken},
		{"huge token", "Bearer " + strings.Repeat("A", 20000), "", ReasonMalformedToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &JWTVerifier{PublicKey: &key.PublicKey, Issuer: tt.issuer, Now: fixedClock(testNow)}
			wantReason(t, v.Verify(tt.header), tt.want)
		})
	}

	t.Run("no key configured", func(t *testing.T) {
		wantReason(t, (&JWTVerifier{}).Verify("Bearer "+valid), ReasonNotConfigured)
	})
}

func TestParseRSAPublicKeyPEM(t *testing.T) {
	key := newRSAKey(t)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)})
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "frankie"},
		NotBefore: testNow, NotAfter: testNow.Add(time.Hour)}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})

	tests := []struct {
		name    string
		in      []byte
		wantErr bool
	}{
		{"PKIX", pkixPEM(t, &key.PublicKey), false},
		{"PKIX with surrounding text", append([]byte("FrankieOne UAT key\n"), pkixPEM(t, &key.PublicKey)...), false},
		{"PKCS#1", pkcs1, false},
		{"PKCS#1 labelled PUBLIC KEY", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)}), false},
		{"certificate", cert, false},
		{"EC key", pkixPEM(t, &ecKey.PublicKey), true},
		{"1024-bit key", pkixPEM(t, &small.PublicKey), true},
		{"private key", privPEM, true},
		{"not PEM", []byte("-----BEGIN nothing"), true},
		{"empty", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRSAPublicKeyPEM(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(&key.PublicKey) {
				t.Fatal("parsed another key")
			}
		})
	}
}

func FuzzJWTVerify(f *testing.F) {
	key := newRSAKey(f)
	v := &JWTVerifier{PublicKey: &key.PublicKey, Now: fixedClock(testNow)}
	valid := signRS256(f, key, frankieClaims(testNow))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, frankieClaims(testNow)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, frankieClaims(testNow)).SignedString(pkixPEM(f, &key.PublicKey))
	for _, seed := range []string{
		"Bearer " + valid, "Bearer: " + valid, "Bearer " + none, "Bearer " + hs,
		"Bearer e30.e30.", "Bearer ..", "Bearer: eyJhbGciOiJSUzI1NiJ9.eyJpYXQiOiJ4In0.AAAA", "", "bearer:", "Bearer \x00",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		err := v.Verify(header)
		if err == nil {
			// Without the private key the fuzzer can only replay the seed token, with at
			// most another scheme spelling, whitespace, or spare bits in the signature's base64.
			tok, _ := bearerToken(header)
			if i := strings.LastIndexByte(tok, '.'); i < 0 || tok[:i] != valid[:strings.LastIndexByte(valid, '.')] {
				t.Fatalf("accepted a token that was never signed: %q", header)
			}
		}
	})
}
