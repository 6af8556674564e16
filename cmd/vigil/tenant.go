package main

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/auth"
	"github.com/vigilsec/vigil/store"
)

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// openDB opens the application pool for CLI commands.
func openDB(ctx context.Context) (*store.DB, error) {
	cfg, err := LoadConfig(lookupEnv, needDatabase)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, store.PoolConfig{MaxConns: 4, Role: cfg.DatabaseRole})
	if err != nil {
		return nil, err
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func newTenantCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tenant", Short: "Manage tenants (operators)"}
	var name, slug, email, ownerName string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a tenant and its owner; prints the owner's one-time password",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if slug == "" {
				slug = strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(name), "-"), "-")
			}
			var problems []string
			if strings.TrimSpace(name) == "" || len(name) > 200 {
				problems = append(problems, "--name is required (at most 200 characters)")
			}
			if !slugRE.MatchString(slug) {
				problems = append(problems, "--slug must be lowercase letters, digits and dashes (at most 63)")
			}
			if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
				problems = append(problems, "--owner-email must be a plain e-mail address")
			}
			if len(problems) > 0 {
				return errors.New(strings.Join(problems, "; "))
			}
			db, err := openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			password := auth.RandomToken(15)
			hash, err := auth.HashPassword(password)
			if err != nil {
				return err
			}
			tid, uid, err := db.TenantCreate(cmd.Context(), store.TenantCreateParams{Name: name, Slug: slug,
				OwnerEmail: email, OwnerName: ownerName, OwnerPasswordHash: hash})
			if errors.Is(err, store.ErrConflict) {
				if strings.Contains(err.Error(), "password") {
					// The person already has an account: they own the new tenant with their password.
					tid, uid, err = db.TenantCreate(cmd.Context(), store.TenantCreateParams{Name: name, Slug: slug, OwnerEmail: email, OwnerName: ownerName})
					password = ""
				} else {
					return fmt.Errorf("a tenant with slug %q already exists", slug)
				}
			}
			if err != nil {
				return err
			}
			err = db.TenantTx(cmd.Context(), tid, func(tx pgx.Tx) error {
				return store.AuditInsert(cmd.Context(), tx, store.AuditEntry{ActorType: "system", ActorID: "cli", ActorName: "vigil tenant create",
					Action: "tenant.created", TargetType: "tenant", TargetID: tid.String(), Details: map[string]any{"owner": email}})
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "tenant   %s (%s)\nid       %s\nowner    %s (%s)\n", name, slug, tid, email, uid)
			if password != "" {
				fmt.Fprintf(out, "password %s\n(one-time: shown only now; change it after signing in)\n", password)
			} else {
				fmt.Fprintln(out, "password unchanged: the owner already has an account")
			}
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "display name of the tenant (required)")
	create.Flags().StringVar(&slug, "slug", "", "short unique identifier (default: from the name)")
	create.Flags().StringVar(&email, "owner-email", "", "e-mail of the first owner (required)")
	create.Flags().StringVar(&ownerName, "owner-name", "", "name of the first owner")
	cmd.AddCommand(create)
	return cmd
}

func newAPIKeyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "apikey", Short: "Manage API keys (operators)"}
	var tenant, role, name string
	var ttl time.Duration
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API key for a tenant; prints the key once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := auth.Role(role)
			if !r.Valid() {
				return fmt.Errorf("--role must be one of owner, admin, analyst, viewer")
			}
			if name == "" {
				name = "cli " + role + " key"
			}
			db, err := openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			tid, err := db.TenantIDBySlug(cmd.Context(), tenant)
			if err != nil {
				return err
			}
			var expires *time.Time
			if ttl > 0 {
				e := time.Now().Add(ttl)
				expires = &e
			}
			key, prefix := auth.NewAPIKey()
			var k store.APIKey
			err = db.TenantTx(cmd.Context(), tid, func(tx pgx.Tx) error {
				var err error
				if k, err = store.APIKeyCreate(cmd.Context(), tx, name, prefix, auth.HashToken(key), role, nil, expires); err != nil {
					return err
				}
				return store.AuditInsert(cmd.Context(), tx, store.AuditEntry{ActorType: "system", ActorID: "cli", ActorName: "vigil apikey create",
					Action: "api_key.created", TargetType: "api_key", TargetID: k.ID.String(), Details: map[string]any{"name": name, "role": role}})
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "created API key %s (%s, role %s); it is shown only now:\n", k.ID, name, role)
			fmt.Fprintln(cmd.OutOrStdout(), key)
			return nil
		},
	}
	create.Flags().StringVar(&tenant, "tenant", "", "tenant slug (required)")
	create.Flags().StringVar(&role, "role", "viewer", "owner, admin, analyst or viewer")
	create.Flags().StringVar(&name, "name", "", "a name to recognise the key by")
	create.Flags().DurationVar(&ttl, "expires-in", 0, "expire the key after this long (e.g. 720h); default never")
	_ = create.MarkFlagRequired("tenant")
	cmd.AddCommand(create)
	return cmd
}
