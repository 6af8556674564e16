package seal

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSeal(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{7}, 32)
	s, err := New(key)
	require.NoError(t, err)
	ct, err := s.Seal([]byte("AKIA secret"), "tenant/a/account/1")
	require.NoError(t, err)
	require.NotContains(t, string(ct), "AKIA")
	pt, err := s.Open(ct, "tenant/a/account/1")
	require.NoError(t, err)
	require.Equal(t, "AKIA secret", string(pt))

	ct2, _ := s.Seal([]byte("AKIA secret"), "tenant/a/account/1")
	require.NotEqual(t, ct, ct2, "random nonce")

	_, err = s.Open(ct, "tenant/b/account/1")
	require.ErrorIs(t, err, ErrOpen, "bound to its owner")
	other, _ := New(bytes.Repeat([]byte{8}, 32))
	_, err = other.Open(ct, "tenant/a/account/1")
	require.ErrorIs(t, err, ErrOpen, "another key")
	ct[len(ct)-1] ^= 1
	_, err = s.Open(ct, "tenant/a/account/1")
	require.ErrorIs(t, err, ErrOpen, "tampered")
	_, err = s.Open([]byte{1, 2}, "x")
	require.ErrorIs(t, err, ErrOpen)
	_, err = New([]byte("short"))
	require.Error(t, err)
}
