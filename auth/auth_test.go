package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse battery staple")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$"))
	require.NoError(t, VerifyPassword(h, "correct horse battery staple"))
	require.ErrorIs(t, VerifyPassword(h, "correct horse battery stapl"), ErrPasswordMismatch)

	h2, err := HashPassword("correct horse battery staple")
	require.NoError(t, err)
	require.NotEqual(t, h, h2, "salted")

	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", "$argon2id$v=19$m=1,t=1,p=1$!!$AA"} {
		require.Error(t, VerifyPassword(bad, "x"), bad)
	}
}

func TestAPIKey(t *testing.T) {
	t.Parallel()
	k, prefix := NewAPIKey()
	require.True(t, LooksLikeAPIKey(k))
	require.True(t, strings.HasPrefix(k, prefix))
	require.Len(t, prefix, 12)
	k2, _ := NewAPIKey()
	require.NotEqual(t, k, k2)
	require.NotEqual(t, HashToken(k), HashToken(k2))
	for _, bad := range []string{"", "vgl_", "vgl_short", "xyz_" + k[4:], k + "x", "vgl_" + strings.Repeat("*", 43)} {
		require.False(t, LooksLikeAPIKey(bad), bad)
	}
}

func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	// want[role] lists the permissions the role holds; everything else is refused.
	want := map[Role][]Permission{
		RoleViewer:  {PermRead},
		RoleAnalyst: {PermRead, PermRunScans, PermManageMutes, PermManageChecks},
		RoleAdmin: {PermRead, PermRunScans, PermManageMutes, PermManageChecks, PermManageUsers, PermManageAPIKeys,
			PermManageAccounts, PermManageIntegration, PermManageSettings, PermReadAudit},
		RoleOwner: Permissions(),
	}
	for _, r := range Roles {
		for _, p := range Permissions() {
			require.Equal(t, contains(want[r], p), r.Can(p), "%s %s", r, p)
		}
	}
	require.False(t, Role("root").Can(PermRead))
	require.False(t, RoleOwner.Can("unknown:perm") && !RoleOwner.AtLeast(RoleOwner))

	require.True(t, RoleOwner.CanGrant(RoleOwner))
	require.False(t, RoleAdmin.CanGrant(RoleOwner))
	require.True(t, RoleAdmin.CanGrant(RoleAdmin))
	require.True(t, RoleAdmin.CanGrant(RoleViewer))
	require.False(t, RoleAnalyst.CanGrant(RoleViewer))
	require.False(t, RoleOwner.CanGrant("root"))
}

func contains(ps []Permission, p Permission) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}
