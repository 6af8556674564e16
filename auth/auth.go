// Package auth owns Vigil's credentials primitives: argon2id password hashes, random
// session and CSRF tokens, API key format and hashing, and the role/permission matrix.
// It does no I/O; store persists what it produces and api enforces it.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters (RFC 9106's second recommended option, memory-constrained).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024 // KiB
	argonThreads = 2
	argonKeyLen  = 32
	saltLen      = 16
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// ErrPasswordMismatch is returned by VerifyPassword for a wrong password.
var ErrPasswordMismatch = errors.New("password does not match")

// HashPassword returns an encoded argon2id hash: $argon2id$v=19$m=..,t=..,p=..$salt$key.
func HashPassword(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// VerifyPassword checks password against an encoded hash in constant time.
func VerifyPassword(encoded, password string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("unsupported password hash")
	}
	var version int
	var mem uint32
	var iter uint32
	var par uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &par); err != nil {
		return errors.New("malformed argon2 parameters")
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return errors.New("malformed argon2 salt")
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil {
		return errors.New("malformed argon2 key")
	}
	got := argon2.IDKey([]byte(password), salt, iter, mem, par, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrPasswordMismatch
	}
	return nil
}

// DummyVerify spends the time of one verification, so a login for an unknown e-mail
// takes as long as one with a wrong password (no user enumeration by timing).
func DummyVerify(password string) {
	_ = argon2.IDKey([]byte(password), make([]byte, saltLen), argonTime, argonMemory, argonThreads, argonKeyLen)
}

// RandomToken returns n random bytes as unpadded base64url.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the OS has no entropy: nothing is safe
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is the stored form of a session token or API key secret. Tokens carry 256
// bits of entropy, so a fast hash is enough (no password stretching needed).
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// APIKeyPrefix starts every API key, so secret scanners can recognise leaked keys.
const APIKeyPrefix = "vgl_"

// NewAPIKey returns a new key ("vgl_" + 43 base64url characters) and its display prefix.
func NewAPIKey() (key, displayPrefix string) {
	key = APIKeyPrefix + RandomToken(32)
	return key, key[:len(APIKeyPrefix)+8]
}

// LooksLikeAPIKey reports whether s has the shape of a Vigil API key.
func LooksLikeAPIKey(s string) bool {
	if !strings.HasPrefix(s, APIKeyPrefix) || len(s) != len(APIKeyPrefix)+43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s[len(APIKeyPrefix):])
	return err == nil
}
