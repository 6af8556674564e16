// Package seal encrypts secrets at rest (cloud credentials) with AES-256-GCM under the
// master key from VIGIL_MASTER_KEY. Each ciphertext is bound to its owner (tenant and
// object id) as additional data, so a sealed value copied to another row or tenant does
// not open. It does no I/O.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// version prefixes every ciphertext so the scheme (or key) can rotate later.
const version byte = 1

// ErrOpen is returned for a ciphertext that does not authenticate: wrong key, wrong
// owner, or tampered data.
var ErrOpen = errors.New("sealed value does not open with this key and owner")

// Sealer seals and opens values. Safe for concurrent use.
type Sealer struct{ aead cipher.AEAD }

// New returns a Sealer for a 32-byte key.
func New(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("master key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext for owner (e.g. "tenant/<id>/account/<id>").
func (s *Sealer) Seal(plaintext []byte, owner string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal nonce: %w", err)
	}
	out := append([]byte{version}, nonce...)
	return s.aead.Seal(out, nonce, plaintext, []byte(owner)), nil
}

// Open decrypts a value sealed for owner.
func (s *Sealer) Open(sealed []byte, owner string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	pt, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(owner))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}
