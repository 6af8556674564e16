package iampolicy

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

//go:generate go run ./gen -gomod ../../go.mod -overrides gen/overrides.json -out catalog.json

// AccessLevel is the access level AWS's Service Authorization Reference gives an action.
type AccessLevel string

// Access levels.
const (
	LevelList        AccessLevel = "List"
	LevelRead        AccessLevel = "Read"
	LevelWrite       AccessLevel = "Write"
	LevelPermissions AccessLevel = "Permissions management"
	LevelTagging     AccessLevel = "Tagging"
)

// AllLevels lists the access levels from least to most sensitive.
var allLevels = []AccessLevel{LevelList, LevelRead, LevelTagging, LevelWrite, LevelPermissions}

// AllAccessLevels returns every access level, from least to most sensitive.
func AllAccessLevels() []AccessLevel { return append([]AccessLevel(nil), allLevels...) }

func levelRank(l AccessLevel) int {
	for i, x := range allLevels {
		if x == l {
			return i
		}
	}
	return len(allLevels)
}

// ActionInfo describes one IAM action.
type ActionInfo struct {
	// Service is the IAM service prefix, e.g. "s3".
	Service string `json:"service"`
	// Name is the action name in AWS's spelling, e.g. "GetObject".
	Name string `json:"name"`
	// Level is the action's access level.
	Level AccessLevel `json:"level"`
}

// String returns "service:Name".
func (a ActionInfo) String() string { return a.Service + ":" + a.Name }

// CatalogFile is the JSON form of the generated catalog (catalog.json).
type CatalogFile struct {
	// Comment says how the file is made.
	Comment string `json:"comment"`
	// Sources maps each SDK module read to its version.
	Sources map[string]string `json:"sources"`
	// Services maps an IAM service prefix to its actions and their access levels.
	Services map[string]map[string]AccessLevel `json:"services"`
}

// Catalog is a read-only set of AWS actions by service prefix, used to expand wildcards
// and to classify the access level of granted actions. It is safe for concurrent use.
type Catalog struct {
	services map[string][]ActionInfo // lower-case prefix -> actions sorted by name
	index    map[string]ActionInfo   // "prefix:lowername" -> action
}

//go:embed catalog.json
var catalogJSON []byte

var defaultCatalog = sync.OnceValue(func() *Catalog {
	c, err := LoadCatalog(catalogJSON)
	if err != nil {
		// The embedded file is generated and tested; failing here is a build defect.
		panic(fmt.Sprintf("iampolicy: embedded catalog: %v", err))
	}
	return c
})

// DefaultCatalog returns the catalog generated from the AWS SDK modules the repository
// requires (see docs/iam.md for the services covered).
func DefaultCatalog() *Catalog { return defaultCatalog() }

// LoadCatalog reads a catalog in the CatalogFile JSON form.
func LoadCatalog(data []byte) (*Catalog, error) {
	var f CatalogFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("decode catalog: %w", err)
	}
	c := &Catalog{services: map[string][]ActionInfo{}, index: map[string]ActionInfo{}}
	for svc, actions := range f.Services {
		prefix := strings.ToLower(svc)
		for name, level := range actions {
			if levelRank(level) == len(allLevels) {
				return nil, fmt.Errorf("catalog: %s:%s has unknown access level %q", svc, name, level)
			}
			a := ActionInfo{Service: prefix, Name: name, Level: level}
			c.services[prefix] = append(c.services[prefix], a)
			c.index[prefix+":"+strings.ToLower(name)] = a
		}
		sort.Slice(c.services[prefix], func(i, j int) bool {
			return c.services[prefix][i].Name < c.services[prefix][j].Name
		})
	}
	return c, nil
}

// Services returns the service prefixes in the catalog, sorted.
func (c *Catalog) Services() []string {
	out := make([]string, 0, len(c.services))
	for s := range c.services {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Actions returns the actions of one service prefix, sorted by name.
func (c *Catalog) Actions(service string) []ActionInfo {
	return append([]ActionInfo(nil), c.services[strings.ToLower(service)]...)
}

// Lookup finds an action ("s3:getobject" or "s3:GetObject").
func (c *Catalog) Lookup(action string) (ActionInfo, bool) {
	a, ok := c.index[strings.ToLower(action)]
	return a, ok
}

// ExpandActions returns the catalog actions matching an action pattern such as
// "s3:Get*", "*:Describe*" or "*", as "service:Name", sorted. A pattern naming an
// action the catalog lacks (a service it does not cover) returns nothing.
func (c *Catalog) ExpandActions(pattern string) []string {
	infos := c.expand(pattern)
	out := make([]string, len(infos))
	for i, a := range infos {
		out[i] = a.String()
	}
	return out
}

func (c *Catalog) expand(pattern string) []ActionInfo {
	p := strings.ToLower(pattern)
	if p == "*" {
		p = "*:*"
	}
	svc, act, ok := strings.Cut(p, ":")
	if !ok {
		return nil
	}
	var out []ActionInfo
	for prefix, actions := range c.services {
		if !glob(svc, prefix) {
			continue
		}
		for _, a := range actions {
			if act == "*" || glob(act, strings.ToLower(a.Name)) {
				out = append(out, a)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// ExpandActions expands an action pattern with the default catalog.
func ExpandActions(pattern string) []string { return DefaultCatalog().ExpandActions(pattern) }

// Levels returns the access levels of the actions matching any of the patterns, from
// least to most sensitive.
func (c *Catalog) Levels(patterns ...string) []AccessLevel {
	seen := map[AccessLevel]bool{}
	for _, p := range patterns {
		if p == "*" || p == "*:*" {
			return AllAccessLevels()
		}
		for _, a := range c.expand(p) {
			seen[a.Level] = true
		}
	}
	return sortedLevels(seen)
}

func sortedLevels(seen map[AccessLevel]bool) []AccessLevel {
	out := []AccessLevel{}
	for _, l := range allLevels {
		if seen[l] {
			out = append(out, l)
		}
	}
	return out
}

// statementLevels classifies what a statement's actions grant. NotAction grants the
// complement, which for any realistic exclusion list covers every level.
func (c *Catalog) statementLevels(st *Statement) []AccessLevel {
	if st.notAction {
		return AllAccessLevels()
	}
	return c.Levels(st.Action...)
}

// AllowedActions lists the catalog actions the policy allows on resource in the
// worst case (see Policy.Allows), as "service:Name", sorted. It is how a check turns a
// policy into effective permissions over the known actions.
func (p *Policy) AllowedActions(c *Catalog, resource string) []string {
	var out []string
	for _, svc := range c.Services() {
		for _, a := range c.services[svc] {
			if p.Allows(a.String(), resource) {
				out = append(out, a.String())
			}
		}
	}
	return out
}
