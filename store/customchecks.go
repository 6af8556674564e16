package store

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gopkg.in/yaml.v3"

	"github.com/vigilsec/vigil/checks"
)

// CustomCheckPrefix starts every tenant-authored check id, so that a custom check never
// collides with (or shadows) a built-in one.
const CustomCheckPrefix = "custom."

// CustomCheck is a tenant-authored check: its YAML as written and the metadata the
// catalog lists without parsing it.
type CustomCheck struct {
	ID           uuid.UUID `json:"id"`
	CheckID      string    `json:"check_id"`
	Title        string    `json:"title"`
	Severity     string    `json:"severity"`
	ResourceType string    `json:"resource_type"`
	YAML         string    `json:"yaml"`
	CreatedBy    string    `json:"created_by"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

const customCheckColumns = "id, check_id, title, severity, resource_type, yaml, created_by, created_at, updated_at"

func scanCustomCheck(r pgx.CollectableRow) (CustomCheck, error) {
	var c CustomCheck
	err := r.Scan(&c.ID, &c.CheckID, &c.Title, &c.Severity, &c.ResourceType, &c.YAML, &c.CreatedBy, &c.CreatedAt, &c.UpdatedAt)
	return c, err
}

// CustomCheckCreate stores a validated check; ErrConflict when its check id exists.
func CustomCheckCreate(ctx context.Context, tx pgx.Tx, c CustomCheck) (CustomCheck, error) {
	rows, err := tx.Query(ctx, `INSERT INTO custom_checks (tenant_id, id, check_id, title, severity, resource_type, yaml, created_by)
		VALUES (vigil_current_tenant(), $1, $2, $3, $4, $5, $6, $7) RETURNING `+customCheckColumns,
		uuid.New(), c.CheckID, c.Title, c.Severity, c.ResourceType, c.YAML, c.CreatedBy)
	if err != nil {
		return CustomCheck{}, fmt.Errorf("create custom check: %w", err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanCustomCheck)
	return out, translate(err)
}

// CustomCheckUpdate replaces a check's YAML and metadata.
func CustomCheckUpdate(ctx context.Context, tx pgx.Tx, c CustomCheck) (CustomCheck, error) {
	rows, err := tx.Query(ctx, `UPDATE custom_checks SET check_id = $2, title = $3, severity = $4, resource_type = $5, yaml = $6,
		updated_at = now() WHERE tenant_id = vigil_current_tenant() AND id = $1 RETURNING `+customCheckColumns,
		c.ID, c.CheckID, c.Title, c.Severity, c.ResourceType, c.YAML)
	if err != nil {
		return CustomCheck{}, fmt.Errorf("update custom check: %w", err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanCustomCheck)
	return out, translate(err)
}

// CustomCheckGet reads one check by row id.
func CustomCheckGet(ctx context.Context, tx pgx.Tx, id uuid.UUID) (CustomCheck, error) {
	rows, err := tx.Query(ctx, "SELECT "+customCheckColumns+" FROM custom_checks WHERE tenant_id = vigil_current_tenant() AND id = $1", id)
	if err != nil {
		return CustomCheck{}, fmt.Errorf("get custom check: %w", err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanCustomCheck)
	return out, translate(err)
}

// CustomCheckByCheckID reads one check by its check id.
func CustomCheckByCheckID(ctx context.Context, tx pgx.Tx, checkID string) (CustomCheck, error) {
	rows, err := tx.Query(ctx, "SELECT "+customCheckColumns+" FROM custom_checks WHERE tenant_id = vigil_current_tenant() AND check_id = $1", checkID)
	if err != nil {
		return CustomCheck{}, fmt.Errorf("get custom check: %w", err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanCustomCheck)
	return out, translate(err)
}

// CustomCheckList lists the tenant's checks by check id.
func CustomCheckList(ctx context.Context, tx pgx.Tx) ([]CustomCheck, error) {
	rows, err := tx.Query(ctx, "SELECT "+customCheckColumns+" FROM custom_checks WHERE tenant_id = vigil_current_tenant() ORDER BY check_id")
	if err != nil {
		return nil, fmt.Errorf("list custom checks: %w", err)
	}
	return pgx.CollectRows(rows, scanCustomCheck)
}

// CustomCheckDelete removes a check (its findings stay until the next evaluation
// resolves them as not applicable).
func CustomCheckDelete(ctx context.Context, tx pgx.Tx, id uuid.UUID) (CustomCheck, error) {
	rows, err := tx.Query(ctx, "DELETE FROM custom_checks WHERE tenant_id = vigil_current_tenant() AND id = $1 RETURNING "+customCheckColumns, id)
	if err != nil {
		return CustomCheck{}, fmt.Errorf("delete custom check: %w", err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanCustomCheck)
	return out, translate(err)
}

// CustomCheckParse validates and compiles a tenant's check YAML. The id must be
// "custom.<cloud>.<service>.<name>"; the engine's id rules apply to the part after the
// prefix, which the returned check carries as its ID (prepend CustomCheckPrefix to
// show it). The prefix is removed in place on the id's line, so the line numbers of
// the problems match the text the tenant wrote. It lives beside the table because the
// stored form is this contract: the scan evaluation parses stored checks with it too.
func CustomCheckParse(ctx context.Context, co *checks.Compiler, src []byte) (*checks.Check, []checks.Problem) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, co.Validate(ctx, src) // reports the YAML error with its line
	}
	doc := root.Content[0]
	var idNode *yaml.Node
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "id" {
			idNode = doc.Content[i+1]
		}
	}
	if idNode == nil || idNode.Kind != yaml.ScalarNode {
		return nil, []checks.Problem{{Field: "id", Message: "required: custom.<cloud>.<service>.<name>"}}
	}
	if !strings.HasPrefix(idNode.Value, CustomCheckPrefix) {
		return nil, []checks.Problem{{Field: "id", Line: idNode.Line,
			Message: fmt.Sprintf("%q must start with %q (custom.<cloud>.<service>.<name>), so it never collides with a built-in check", idNode.Value, CustomCheckPrefix)}}
	}
	lines := bytes.SplitAfter(src, []byte("\n"))
	if idNode.Line < 1 || idNode.Line > len(lines) {
		return nil, []checks.Problem{{Field: "id", Message: "cannot locate the id"}}
	}
	line := lines[idNode.Line-1]
	at := bytes.Index(line, []byte(CustomCheckPrefix))
	if at < 0 {
		return nil, []checks.Problem{{Field: "id", Line: idNode.Line, Message: "write the id on one line"}}
	}
	fixed := make([]byte, 0, len(src))
	for i, l := range lines {
		if i == idNode.Line-1 {
			l = append(append([]byte{}, l[:at]...), l[at+len(CustomCheckPrefix):]...)
		}
		fixed = append(fixed, l...)
	}
	if ps := co.Validate(ctx, fixed); len(ps) > 0 {
		for i := range ps {
			if ps[i].Field == "id" {
				ps[i].Message = strings.ReplaceAll(ps[i].Message, "<cloud>.<service>.<snake_name>", "custom.<cloud>.<service>.<snake_name>")
			}
		}
		return nil, ps
	}
	c, err := co.ParseCheck(fixed)
	if err != nil {
		return nil, []checks.Problem{{Message: err.Error()}}
	}
	return c, nil
}
