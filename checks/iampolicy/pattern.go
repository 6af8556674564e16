package iampolicy

import (
	"strings"
	"unicode/utf8"
)

// Characters produced by the policy variables ${*} and ${?} (and by substituted
// request values) must match literally, not as wildcards. Substituted text carries
// them as these two control bytes, which never occur in ARNs or condition values;
// glob treats them as the literal '*' and '?'.
const (
	litStar     = '\x00'
	litQuestion = '\x01'
)

// glob reports whether s matches pattern, where '*' matches any run of characters
// (including none, across ':' and '/') and '?' matches exactly one character. It runs
// in O(len(pattern)*len(s)) at worst and allocates nothing.
func glob(pattern, s string) bool {
	px, sx := 0, 0
	starPx, starSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starPx, starSx = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					_, n := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += n
					continue
				}
			default:
				if sx < len(s) && literalEq(c, s[sx]) {
					px++
					sx++
					continue
				}
			}
		}
		if starPx >= 0 && starSx < len(s) {
			_, n := utf8.DecodeRuneInString(s[starSx:])
			starSx += n
			px, sx = starPx+1, starSx
			continue
		}
		return false
	}
	return true
}

func literalEq(p, s byte) bool {
	switch p {
	case litStar:
		return s == '*'
	case litQuestion:
		return s == '?'
	}
	return p == s
}

// unescapeLiteral turns the control bytes of substituted text back into '*' and '?'
// for operators that compare without wildcards.
func unescapeLiteral(s string) string {
	if strings.IndexByte(s, litStar) < 0 && strings.IndexByte(s, litQuestion) < 0 {
		return s
	}
	return strings.NewReplacer(string(rune(litStar)), "*", string(rune(litQuestion)), "?").Replace(s)
}

func escapeLiteral(s string) string {
	if !strings.ContainsAny(s, "*?") {
		return s
	}
	return strings.NewReplacer("*", string(rune(litStar)), "?", string(rune(litQuestion))).Replace(s)
}

// pattern is a Resource pattern or a condition value, with its policy variables
// parsed once.
type pattern struct {
	raw   string
	parts []patternPart // nil when the text has no variables
}

type patternPart struct {
	text   string // literal text, or the variable's key (lower-cased)
	isVar  bool
	def    string // default value, when hasDef
	hasDef bool
}

// compilePattern splits text into literal parts and ${...} variables. With vars false
// (policy Version 2008-10-17 or none) the text is kept literal, as AWS does.
func compilePattern(text string, vars bool) pattern {
	p := pattern{raw: text}
	if !vars || !strings.Contains(text, "${") {
		return p
	}
	rest := text
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			break
		}
		if i > 0 {
			p.parts = append(p.parts, patternPart{text: rest[:i]})
		}
		p.parts = append(p.parts, parseVariable(rest[i+2:i+j]))
		rest = rest[i+j+1:]
	}
	if p.parts == nil {
		return p
	}
	if rest != "" {
		p.parts = append(p.parts, patternPart{text: rest})
	}
	return p
}

// parseVariable reads "key" or "key, 'default'" (the default value syntax AWS added for
// policy variables). The special variables ${*}, ${?} and ${$} become literal text.
func parseVariable(body string) patternPart {
	switch body {
	case "*":
		return patternPart{text: string(rune(litStar))}
	case "?":
		return patternPart{text: string(rune(litQuestion))}
	case "$":
		return patternPart{text: "$"}
	}
	key, def, hasDef := strings.Cut(body, ",")
	part := patternPart{text: strings.ToLower(strings.TrimSpace(key)), isVar: true}
	if hasDef {
		d := strings.TrimSpace(def)
		if len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' {
			part.def, part.hasDef = escapeLiteral(d[1:len(d)-1]), true
		}
	}
	return part
}

// resolve substitutes the pattern's variables from the request context. ok is false
// when a variable has no value and no default: the pattern then matches nothing, as
// AWS treats a missing variable as null.
func (p *pattern) resolve(ctx *reqContext) (string, bool) {
	if p.parts == nil {
		return p.raw, true
	}
	var b strings.Builder
	for _, part := range p.parts {
		if !part.isVar {
			b.WriteString(part.text)
			continue
		}
		vals := ctx.get(part.text)
		switch {
		case len(vals) > 0:
			// A multi-valued key used as a variable takes its first value; AWS only
			// allows single-valued keys here.
			b.WriteString(escapeLiteral(vals[0]))
		case part.hasDef:
			b.WriteString(part.def)
		default:
			return "", false
		}
	}
	return b.String(), true
}

// hasVars reports whether the pattern uses policy variables.
func (p *pattern) hasVars() bool { return p.parts != nil }
