package checks_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/checks/builtin"
	"github.com/vigilsec/vigil/providers"
)

// differentialCorpus gathers, per resource type, the documents a differential test
// evaluates: every fixture of every check of that type (so each check also sees the
// documents written for its neighbours), the synthetic benchmark documents, and the
// golden documents the collectors emit with fixtures laid over them (the built-in
// benchmark's documents).
func differentialCorpus(t *testing.T, builtins *checks.Registry, regs ...*checks.Registry) map[string][]checks.Document {
	t.Helper()
	byType := map[string][]checks.Document{}
	for _, reg := range regs {
		for _, c := range reg.Checks() {
			for i := range c.Tests {
				doc, err := checks.FixtureDoc(c, i)
				require.NoError(t, err, "%s fixture %d", c.ID, i)
				byType[c.Resource] = append(byType[c.Resource], doc)
			}
		}
	}
	for _, d := range syntheticDocs(200) {
		byType[d.Resource.Type] = append(byType[d.Resource.Type], d)
	}
	for _, d := range builtinDocs(t, builtins, 3000) {
		byType[d.Resource.Type] = append(byType[d.Resource.Type], d)
	}
	return byType
}

// requireSamePaths evaluates the check on the document through the fast path and
// through the cel-go program alone and requires the same result: status, message,
// reason and evidence.
func requireSamePaths(t *testing.T, c *checks.Check, doc checks.Document, what string) {
	t.Helper()
	ctx := context.Background()
	plain := checks.EvaluatePath(ctx, c, doc, false)
	fast := checks.EvaluatePath(ctx, c, doc, true)
	require.Equal(t, plain, fast, "%s on %s: fast path differs from cel-go", c.ID, what)
}

func TestFastPathMatchesCEL(t *testing.T) {
	t.Parallel()
	// A panic would be hidden by the fall back to cel-go: there must be none.
	t.Cleanup(func() { require.Zero(t, checks.FastPanics(), "the fast path panicked") })
	builtins, err := builtin.Registry()
	require.NoError(t, err)
	testdata := loadTestdata(t)
	corpus := differentialCorpus(t, builtins, builtins, testdata)

	// Whole documents through a registry: the checks of a document share the caches
	// of the fast path (properties, function results, evidence); Registry.Evaluate
	// also reuses its pooled inputs from one document to the next.
	ctx := context.Background()
	for _, reg := range []*checks.Registry{builtins, testdata} {
		for typ, docs := range corpus {
			for i, doc := range docs {
				plain := checks.EvaluateRegistryPath(reg, doc, false)
				require.Equal(t, plain, checks.EvaluateRegistryPath(reg, doc, true),
					"%s document %d: fast path differs from cel-go", typ, i)
				require.Equal(t, plain, reg.Evaluate(ctx, doc), "%s document %d: pooled input differs from cel-go", typ, i)
				// Each check alone, on an input of its own: what the checks of a
				// document share (evidence, bindings) must not leak between them.
				var alone []checks.Result
				for _, c := range reg.ForType(doc.Resource.Type) {
					if r := checks.EvaluatePath(ctx, c, doc, true); r.Status != checks.StatusSkip {
						alone = append(alone, r)
					}
				}
				require.Equal(t, alone, plain, "%s document %d: checks evaluated alone differ", typ, i)
			}
		}
	}

	for _, reg := range []*checks.Registry{builtins, testdata} {
		for _, c := range reg.Checks() {
			t.Run(c.ID, func(t *testing.T) {
				t.Parallel()
				for i, doc := range corpus[c.Resource] {
					requireSamePaths(t, c, doc, fmt.Sprintf("corpus document %d", i))
				}
				// Mutations of the check's own fixtures reach the error cases: keys
				// missing, nulls, wrong types, empty collections.
				for i := range c.Tests {
					doc, err := checks.FixtureDoc(c, i)
					require.NoError(t, err)
					for _, m := range mutations(doc) {
						requireSamePaths(t, c, m.doc, fmt.Sprintf("fixture %q %s", c.Tests[i].Name, m.what))
					}
				}
			})
		}
	}
}

// TestFastPathCoverage reports how many built-in check expressions are compiled to
// the fast path and how often the fast path answers on the fixtures without handing
// the evaluation to cel-go, and keeps every built-in expression on the fast path.
func TestFastPathCoverage(t *testing.T) {
	t.Parallel()
	reg, err := builtin.Registry()
	require.NoError(t, err)
	total, fast := 0, 0
	var off []string
	answered, asked := 0, 0
	for _, c := range reg.Checks() {
		errs := checks.FastPathErrors(c)
		for _, field := range slices.Sorted(maps.Keys(errs)) {
			total++
			if errs[field] == nil {
				fast++
			} else {
				off = append(off, fmt.Sprintf("%s %s: %v", c.ID, field, errs[field]))
			}
		}
		for i := range c.Tests {
			doc, err := checks.FixtureDoc(c, i)
			require.NoError(t, err)
			if len(doc.Resource.Gaps) > 0 || doc.Account != nil && len(doc.Account.Gaps) > 0 {
				continue // counted without gaps; TestFastPathMatchesCEL compares gap documents
			}
			for _, ok := range checks.FastAnswers(c, doc) {
				asked++
				if ok {
					answered++
				}
			}
		}
	}
	t.Logf("built-in expressions on the fast path: %d of %d (%.1f%%)", fast, total, 100*float64(fast)/float64(total))
	t.Logf("fixture evaluations (without gaps) answered by the fast path: %d of %d expression evaluations (%.1f%%); the rest are errors (unknown), which cel-go answers", answered, asked, 100*float64(answered)/float64(asked))
	require.Empty(t, off, "built-in expressions left to cel-go")
}

// TestFastPathSemantics pins the CEL rules the fast path must reproduce, each checked
// against cel-go on documents built to hit them.
func TestFastPathSemantics(t *testing.T) {
	t.Parallel()
	t.Cleanup(func() { require.Zero(t, checks.FastPanics(), "the fast path panicked") })
	props := map[string]any{
		"S": "abc", "E": "", "U": "héllo", "N": 22.0, "F": 1.5, "Neg": -3.0, "Big": 1e19, "T": true, "Fa": false, "Null": nil,
		"L": []any{1.0, "a", nil, true}, "LE": []any{}, "M": map[string]any{"k": "v", "n": 1.0}, "ME": map[string]any{},
		"LM":   []any{map[string]any{"A": 1.0}, map[string]any{"A": "x"}, map[string]any{}},
		"Time": "2024-01-01T00:00:00Z", "BadTime": "yesterday",
		"Stmt": map[string]any{"Effect": "Allow", "Principal": "*"}, "Stmts": []any{map[string]any{"Effect": "Deny", "Principal": map[string]any{"AWS": []any{"*"}}}},
	}
	exprs := []string{
		// heterogeneous equality and comparison
		`resource.properties.N == 22`, `resource.properties.N == 22u`, `resource.properties.N != 22.5`, `resource.properties.N < 23`,
		`resource.properties.N <= 22u`, `resource.properties.Neg < 0u`, `resource.properties.Big > 9223372036854775807`,
		`resource.properties.S == 1`, `resource.properties.S < 1`, `resource.properties.S > "abb"`, `resource.properties.T > false`,
		`resource.properties.Null == null`, `resource.properties.N == null`, `resource.properties.L == [1, "a", null, true]`,
		`resource.properties.M == {"k": "v", "n": 1}`, `resource.properties.M == {"k": "v"}`, `resource.properties.ME == {}`,
		`resource.properties.LE == []`, `resource.properties.L != resource.properties.LE`,
		// errors and their absorption
		`resource.properties.Missing == 1`, `resource.properties.Missing == 1 || true`, `true || resource.properties.Missing == 1`,
		`resource.properties.Missing == 1 && false`, `false && resource.properties.Missing == 1`, `resource.properties.Missing == 1 && true`,
		`resource.properties.S || true`, `resource.properties.S && true`, `!resource.properties.S`, `resource.properties.S ? true : false`,
		`resource.properties.Null.x == 1`, `resource.properties.S.x == 1`, `resource.properties.L[9] == 1`, `resource.properties.L[-1] == 1`,
		`resource.properties.L[1] == "a"`, `resource.properties.L[1.0] == "a"`, `resource.properties.M["k"] == "v"`, `resource.properties.M["z"] == "v"`,
		// has, in, size, type
		`has(resource.properties.S)`, `has(resource.properties.Zzz)`, `has(resource.properties.M.k)`, `has(resource.properties.S.k)`,
		`has(resource.properties.Null.k)`, `has(resource.properties.L.k)`, `has(resource.tags.env)`,
		`"a" in resource.properties.L`, `1 in resource.properties.L`, `1u in resource.properties.L`, `null in resource.properties.L`,
		`"k" in resource.properties.M`, `1 in resource.properties.M`, `"x" in resource.properties.S`, `resource.properties.N in [22, 23]`,
		`resource.properties.N in [21.0, 22.0]`, `resource.properties.L in [[1.0, "a", null, true]]`, `"env" in resource.tags`,
		`size(resource.properties.U) == 5`, `size(resource.properties.L) == 4`, `size(resource.properties.M) == 2`, `size(resource.properties.N) == 1`,
		`resource.properties.S.size() == 3`, `size(resource.tags) == 1`, `size(resource.properties) > 0`,
		`type(resource.properties.L) == list`, `type(resource.properties.M) == map`, `type(resource.properties.N) == double`,
		`type(resource.properties.Null) == null_type`, `type(resource.properties.S) == string`, `type(resource.properties.T) == bool`,
		`type(resource.properties.Stmt.Principal) == map`, `type(type(1)) == type`, `type(resource.tags) == map`,
		// strings
		`resource.properties.S.startsWith("ab")`, `resource.properties.S.endsWith("bc")`, `resource.properties.S.contains("x")`,
		`resource.properties.N.startsWith("2")`, `resource.properties.S.matches("^a.c$")`, `resource.properties.N.matches("2")`,
		`resource.properties.S + "d" == "abcd"`, `resource.properties.S + resource.properties.N == "abc1"`, `resource.properties.U.upperAscii() == "HéLLO"`,
		`resource.properties.S.replace("b", "x") == "axc"`, `resource.properties.S.split("b") == ["a", "c"]`, `"x".lowerAscii() == "x"`,
		`["a", "b"].join(",") == "a,b"`, `resource.properties.L.join(",") == ""`,
		// comprehensions
		`resource.properties.L.exists(x, x == "a")`, `resource.properties.L.exists(x, x > 0)`, `resource.properties.L.all(x, x != 2)`,
		`resource.properties.L.all(x, x > 0)`, `resource.properties.LE.all(x, x > 0)`, `resource.properties.LM.exists(x, x.A == "x")`,
		`resource.properties.LM.all(x, x.A == 1)`, `resource.properties.LM.exists(x, x.A == 2)`, `resource.properties.M.all(k, k.size() == 1)`,
		`resource.properties.M.exists(k, resource.properties.M[k] == "v")`, `resource.properties.S.exists(c, c == "a")`,
		`resource.properties.L.exists_one(x, x == "a")`, `resource.properties.LM.map(x, x.A) == [1, "x"]`,
		`resource.properties.LM.filter(x, has(x.A)).size() == 2`, `resource.properties.LM.filter(x, x.A == 1).size() == 1`,
		`resource.properties.LM.map(x, has(x.A), x.A) == [1, "x"]`, `resource.properties.L.map(x, x + 1) == []`,
		`cel.bind(v, resource.properties.M, v.k == "v")`, `cel.bind(v, resource.properties.Missing, true)`, `cel.bind(v, resource.properties.Missing, v == 1)`,
		`cel.bind(l, resource.properties.Stmts, l.exists(s, s.Effect == "Deny" && type(s.Principal) == map && "*" in s.Principal.AWS))`,
		`(type(resource.properties.Stmt) == list ? resource.properties.Stmt : [resource.properties.Stmt]).exists(s, s.Principal == "*")`,
		`resource.properties.LM.exists(x, resource.properties.LM.exists(y, x == y && has(x.A)))`,
		`[1, 2, 3].map(x, x * 2) == [2, 4, 6]`, `[1, 2].all(x, [3, 4].exists(y, y > x))`,
		// optionals
		`resource.properties.?M.?k.orValue("") == "v"`, `resource.properties.?Zzz.?k.orValue("d") == "d"`, `resource.properties.M[?"z"].orValue(1) == 1`,
		`resource.properties.?S.?k.orValue("d") == "d"`, `resource.properties.?M.k.orValue("d") == "v"`, `resource.properties.?M.z.orValue("d") == "d"`,
		`resource.properties.?M.hasValue()`, `resource.properties.?Zzz.or(optional.of(1)).value() == 1`, `resource.properties.LM[?5].orValue(0) == 0`,
		`resource.properties.LM[?0].A.orValue(0) == 1`, `resource.properties[?"N"].orValue(0) == 22`,
		// arithmetic, time, functions of the library
		`resource.properties.N + 1.0 == 23.0`, `resource.properties.N + 1 == 23`, `9223372036854775807 + size(resource.properties.L) > 0`,
		`now - timestamp(resource.properties.Time) > duration("1h")`, `now - timestamp(resource.properties.BadTime) > duration("1h")`,
		`timestamp(resource.properties.Time) < now`, `age_days(resource.properties.Time) > 10`, `age_days(resource.properties.N) > 10`,
		`cidr.is_public(resource.properties.S)`, `iam.is_public(resource.properties.Stmts)`, `iam.is_public(resource.properties.Null)`,
		`iam.is_public({"Statement": [resource.properties.Stmt]})`, `related("kms_key").all(k, k.properties.On == true)`,
		`related("kms_key").exists(k, k.name == "key1")`, `related("none").size() == 0`, `related(resource.properties.N).size() == 0`,
		`resource.name == "b1" && resource.region == "us-east-1" && resource.tags.env == "prod" && resource.type == "aws.s3.bucket"`,
		`resource.nope == 1`, `account.properties.P == 1`, `has(account.properties)`, `account.name == ""`,
		`resource.properties.S in resource.properties.S`, `[resource.properties.S, resource.properties.Missing].size() == 2`,
		`{resource.properties.S: 1, "abc": 2}.size() == 2`, `{resource.properties.N: 1}.size() == 1`,
		`math.greatest([resource.properties.N, 3.0]) == 22.0`, `sets.contains(resource.properties.L, ["a"])`, `base64.encode(b"a") == "YQ=="`,
	}
	// handedOver are the expressions with a value that the fast path leaves to cel-go
	// (rare shapes, not worth native code).
	handedOver := map[string]bool{
		`resource.properties.L[1.0] == "a"`:                true,
		`resource.properties.LM[?5].orValue(0) == 0`:       true,
		`resource.properties.LM[?0].A.orValue(0) == 1`:     true,
		`1 in resource.properties.M`:                       true,
		`resource.properties.?S.?k.orValue("d") == "d"`:    true,
		`{resource.properties.S: 1, "abc": 2}.size() == 2`: true,
		`{resource.properties.N: 1}.size() == 1`:           true,
	}
	messages := []string{
		`"bucket " + resource.name + " is " + resource.properties.S`,
		`"bucket " + resource.name + " misses " + resource.properties.Missing`,
		`resource.properties.LM.filter(x, has(x.A)).map(x, string(x.A)).join(", ")`,
		`"keys: " + string(resource.properties.M.map(k, k).size())`,
	}
	docs := map[string]checks.Document{
		"full":          {Resource: bucket(props), Related: map[string][]providers.Resource{"kms_key": {{Name: "key1", Properties: map[string]any{"On": true}}}}},
		"no properties": {Resource: bucket(nil)},
		"gap":           {Resource: bucket(props, "Missing")},
		"account": {Resource: bucket(props), Account: &providers.Resource{Type: "aws.account", Name: "acct",
			Properties: map[string]any{"P": 1.0}}},
		// Documents built in Go rather than decoded from JSON carry other Go types: the
		// fast path hands them to cel-go's adapter.
		"go values": {Resource: bucket(map[string]any{
			"S": "abc", "N": 22, "F": float32(1.5), "Neg": int64(-3), "Big": uint64(1 << 63), "T": true, "Null": nil,
			"L": []string{"a", "b"}, "LE": []int{}, "M": map[string]int{"k": 1, "n": 2}, "ME": map[string]string{},
			"LM": []map[string]any{{"A": 1}, {"A": "x"}}, "Time": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
			"Stmt": map[string]string{"Effect": "Allow", "Principal": "*"},
		})},
		"related with a gap": {Resource: bucket(props), Related: map[string][]providers.Resource{"kms_key": {{Name: "key1", Properties: map[string]any{},
			Gaps: []providers.Gap{{Property: "On", Kind: providers.KindAccessDenied}}}}}},
	}
	for i, expr := range exprs {
		c, err := checks.ParseCheck(checkYAML("aws.s3.semantics_check", "", expr, messages[i%len(messages)]))
		require.NoError(t, err, expr)
		for field, err := range checks.FastPathErrors(c) {
			require.NoError(t, err, "%s of %q is not on the fast path", field, expr)
		}
		for _, name := range slices.Sorted(maps.Keys(docs)) {
			requireSamePaths(t, c, docs[name], fmt.Sprintf("%q, document %s", expr, name))
		}
		// Where cel-go has a value, the fast path must have it too (not hand over).
		if res := checks.EvaluatePath(context.Background(), c, docs["full"], false); res.Status != checks.StatusUnknown {
			if !checks.FastAnswers(c, docs["full"])["assert"] && !handedOver[expr] {
				t.Errorf("the fast path hands %q over to cel-go", expr)
			}
		}
		for _, m := range mutations(docs["full"]) {
			requireSamePaths(t, c, m.doc, fmt.Sprintf("%q, %s", expr, m.what))
		}
	}
}

func TestFastPathLeavesUnknownShapesToCEL(t *testing.T) {
	t.Parallel()
	// Optional list elements are outside the fast path's subset: the expression is
	// compiled for cel-go only and still evaluates.
	c, err := checks.ParseCheck(checkYAML("aws.s3.optional_elements", "", `[?resource.properties.?S, ?resource.properties.?Zzz].size() == 1`, `"m"`))
	require.NoError(t, err)
	require.Error(t, checks.FastPathErrors(c)["assert"])
	require.NoError(t, checks.FastPathErrors(c)["message"])
	got := c.Evaluate(context.Background(), checks.Document{Resource: bucket(map[string]any{"S": "x"})})
	require.Equal(t, checks.StatusPass, got.Status)
}

// mutation is a changed copy of a document.
type mutation struct {
	what string
	doc  checks.Document
}

// mutations returns copies of the document with one value of its properties (and of
// its account document's) changed at a time: deleted, set to null, replaced by a value
// of each other JSON type, and lists and maps emptied; plus the document without its
// name, tags and related documents.
func mutations(doc checks.Document) []mutation {
	var out []mutation
	replacements := []struct {
		what string
		v    func() any
	}{
		{"null", func() any { return nil }},
		{"a string", func() any { return "x" }},
		{"a number", func() any { return 7.0 }},
		{"a bool", func() any { return true }},
		{"an empty list", func() any { return []any{} }},
		{"an empty map", func() any { return map[string]any{} }},
		{"a list of a string", func() any { return []any{"x"} }},
		{"a list of a null", func() any { return []any{nil} }},
	}
	for _, side := range []string{"resource", "account"} {
		var props map[string]any
		if side == "resource" {
			props = doc.Resource.Properties
		} else if doc.Account != nil {
			props = doc.Account.Properties
		}
		for _, path := range propertyPaths(props, nil, 4) {
			label := side + ".properties." + strings.Join(path, ".")
			set := func(fn func(parent any, key string) any) checks.Document {
				d := doc
				if side == "resource" {
					d.Resource.Properties = deepCopy(props).(map[string]any)
					d.Resource.Properties = edit(d.Resource.Properties, path, fn).(map[string]any)
				} else {
					acc := *doc.Account
					acc.Properties = edit(deepCopy(props), path, fn).(map[string]any)
					d.Account = &acc
				}
				return d
			}
			out = append(out, mutation{label + " deleted", set(func(any, string) any { return deleteMarker{} })})
			for _, r := range replacements {
				out = append(out, mutation{label + " set to " + r.what, set(func(any, string) any { return r.v() })})
			}
		}
	}
	out = append(out, gapMutations(doc)...)
	d := doc
	d.Resource.Name, d.Resource.Tags, d.Related = "", nil, nil
	out = append(out, mutation{"without name, tags and related documents", d})
	d = doc
	d.Resource.Properties = nil
	out = append(out, mutation{"without properties", d})
	d = doc
	d.Account = nil
	out = append(out, mutation{"without account document", d})
	return out
}

// gapMutations marks top-level properties of the document as collection gaps, with
// the value kept or deleted, alone, with another property deleted or set to null (so
// that unknowns meet errors), and two at a time: the fast path must give the unknowns
// of cel-go's partial evaluation, and its decided results.
func gapMutations(doc checks.Document) []mutation {
	var out []mutation
	gap := func(k string) providers.Gap {
		return providers.Gap{Property: k, Operation: "svc:Get" + k, Kind: providers.KindAccessDenied, Message: "denied"}
	}
	for _, side := range []string{"resource", "account"} {
		r := &doc.Resource
		if side == "account" {
			if doc.Account == nil || doc.Account == &doc.Resource {
				continue
			}
			r = doc.Account
		}
		keys := slices.Sorted(maps.Keys(r.Properties))
		variant := func(what string, edit func(r *providers.Resource)) {
			d := doc
			c := *r
			c.Properties = maps.Clone(r.Properties)
			c.Gaps = slices.Clone(r.Gaps)
			edit(&c)
			if side == "resource" {
				d.Resource = c
				if doc.Account == &doc.Resource {
					d.Account = &d.Resource
				}
			} else {
				d.Account = &c
			}
			out = append(out, mutation{side + ".properties." + what, d})
		}
		for _, k := range keys {
			variant(k+" a gap", func(c *providers.Resource) { c.Gaps = append(c.Gaps, gap(k)) })
			variant(k+" a gap and deleted", func(c *providers.Resource) {
				c.Gaps = append(c.Gaps, gap(k))
				delete(c.Properties, k)
			})
			if len(keys) > 16 {
				continue
			}
			for _, j := range keys {
				if j == k {
					continue
				}
				variant(k+" a gap, "+j+" deleted", func(c *providers.Resource) {
					c.Gaps = append(c.Gaps, gap(k))
					delete(c.Properties, j)
				})
				variant(k+" a gap, "+j+" null", func(c *providers.Resource) {
					c.Gaps = append(c.Gaps, gap(k))
					c.Properties[j] = nil
				})
				if j > k {
					variant(k+" and "+j+" gaps", func(c *providers.Resource) { c.Gaps = append(c.Gaps, gap(k), gap(j)) })
				}
			}
		}
	}
	return out
}

// deleteMarker asks edit to delete the key.
type deleteMarker struct{}

// propertyPaths lists the paths of the values of a JSON tree, down to depth (list
// elements are addressed by their index).
func propertyPaths(v any, prefix []string, depth int) [][]string {
	if depth == 0 {
		return nil
	}
	var out [][]string
	switch x := v.(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		for _, k := range keys {
			p := append(slices.Clone(prefix), k)
			out = append(out, p)
			out = append(out, propertyPaths(x[k], p, depth-1)...)
		}
	case []any:
		for i, e := range x {
			if i >= 2 {
				break
			}
			p := append(slices.Clone(prefix), fmt.Sprint(i))
			out = append(out, p)
			out = append(out, propertyPaths(e, p, depth-1)...)
		}
	}
	return out
}

// edit replaces (or deletes) the value at path in a copied tree.
func edit(v any, path []string, fn func(parent any, key string) any) any {
	if len(path) == 0 {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		if len(path) == 1 {
			nv := fn(x, path[0])
			if _, del := nv.(deleteMarker); del {
				delete(x, path[0])
			} else {
				x[path[0]] = nv
			}
			return x
		}
		x[path[0]] = edit(x[path[0]], path[1:], fn)
		return x
	case []any:
		var i int
		fmt.Sscan(path[0], &i)
		if len(path) == 1 {
			nv := fn(x, path[0])
			if _, del := nv.(deleteMarker); del {
				return slices.Delete(x, i, i+1)
			}
			x[i] = nv
			return x
		}
		x[i] = edit(x[i], path[1:], fn)
		return x
	}
	return v
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// TestFastPathVisitsMapKeysSorted: cel-go visits map keys in Go's random order; the
// fast path visits them sorted (one of those orders), so a list built from a map is
// the same on every evaluation.
func TestFastPathVisitsMapKeysSorted(t *testing.T) {
	t.Parallel()
	c, err := checks.ParseCheck(checkYAML("aws.s3.sorted_keys", "",
		`resource.properties.M.filter(k, resource.properties.M[k] == true) == ["a", "c", "d"]`, `"m"`))
	require.NoError(t, err)
	doc := checks.Document{Resource: bucket(map[string]any{"M": map[string]any{"d": true, "c": true, "b": false, "a": true}})}
	for range 20 {
		require.Equal(t, checks.StatusPass, checks.EvaluatePath(context.Background(), c, doc, true).Status)
	}
}

// TestFastPathUnknownMeetsGiveUp: in `a && b` and `a || b` (and over the elements of
// all() and exists()), when one side is unknown (it reads a collection gap) and the
// fast path gives up on the other, only cel-go knows whether that other side decides
// the result. `1.0 in {"a": 1}` is such a side:
// the fast path leaves a non-string key of a map to cel-go, which answers false. The
// result must be cel-go's (decided), not unknown.
func TestFastPathUnknownMeetsGiveUp(t *testing.T) {
	t.Parallel()
	doc := checks.Document{Resource: bucket(map[string]any{"Num": 1.0, "Map": map[string]any{"a": 1.0}}, "Gap")}
	tests := []struct {
		assert string
		want   checks.Status
	}{
		{`resource.properties.Gap == "x" && resource.properties.Num in resource.properties.Map`, checks.StatusFail},
		{`resource.properties.Num in resource.properties.Map && resource.properties.Gap == "x"`, checks.StatusFail},
		{`resource.properties.Gap == "x" || !(resource.properties.Num in resource.properties.Map)`, checks.StatusPass},
		{`!(resource.properties.Num in resource.properties.Map) || resource.properties.Gap == "x"`, checks.StatusPass},
		// The other side undecided: unknown either way.
		{`resource.properties.Gap == "x" || resource.properties.Num in resource.properties.Map`, checks.StatusUnknown},
		{`resource.properties.Gap == "x" && !(resource.properties.Num in resource.properties.Map)`, checks.StatusUnknown},
		// The same within all() and exists(): one element unknown, another deciding.
		{`[0, 1].all(i, i == 0 ? resource.properties.Gap == "x" : resource.properties.Num in resource.properties.Map)`, checks.StatusFail},
		{`[0, 1].exists(i, i == 0 ? resource.properties.Gap == "x" : !(resource.properties.Num in resource.properties.Map))`, checks.StatusPass},
		{`[0, 1].all(i, i == 0 ? resource.properties.Gap == "x" : !(resource.properties.Num in resource.properties.Map))`, checks.StatusUnknown},
	}
	for _, tc := range tests {
		c := mustParse(t, "", tc.assert, `"failed"`)
		requireSamePaths(t, c, doc, tc.assert)
		require.Equal(t, tc.want, checks.EvaluatePath(context.Background(), c, doc, true).Status, tc.assert)
	}
}
