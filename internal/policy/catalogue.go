package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/ticketguard/ticketguard/internal/result"
)

// Package paths of the contract.
var (
	rootRef   = ast.MustParseRef("data.ticketguard")
	checksRef = ast.MustParseRef("data.ticketguard.checks")
)

// findingsRule is the rule every check package must define.
const findingsRule = "findings"

// idPattern: lower-case words joined by hyphens (stable, URL- and
// SARIF-rule-id-safe).
var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// checkDef is a check as the compiler sees it.
type checkDef struct {
	check result.Check
	key   string // the package's last segment: the key under data.ticketguard.checks
	path  ast.Ref
	row   int // line of the METADATA block
}

// pkgInfo gathers the modules that make up one package.
type pkgInfo struct {
	path    ast.Ref
	modules []*ast.Module // sorted by file name
	custom  bool          // any module comes from the user's directories
	builtin bool          // any module is built in
}

// catalogue validates the package layout and every check's METADATA against
// the contract and returns the checks sorted by id. All problems are
// reported at once, each with file and line.
func catalogue(c *ast.Compiler, srcs []source) ([]checkDef, error) {
	customFiles := map[string]bool{}
	for _, s := range srcs {
		if s.custom {
			customFiles[s.name] = true
		}
	}

	pkgs := map[string]*pkgInfo{}
	var order []string
	for _, name := range sortedNames(c.Modules) {
		m := c.Modules[name]
		k := m.Package.Path.String()
		p, ok := pkgs[k]
		if !ok {
			p = &pkgInfo{path: m.Package.Path}
			pkgs[k] = p
			order = append(order, k)
		}
		p.modules = append(p.modules, m)
		if customFiles[name] {
			p.custom = true
		} else {
			p.builtin = true
		}
	}

	var (
		problems []Problem
		custom   bool
		defs     []checkDef
	)
	fail := func(isCustom bool, loc *ast.Location, format string, args ...any) {
		custom = custom || isCustom
		p := Problem{Message: fmt.Sprintf(format, args...)}
		if loc != nil {
			p.File, p.Row = loc.File, loc.Row
		}
		problems = append(problems, p)
	}

	for _, k := range order {
		p := pkgs[k]
		first := p.modules[0]
		pkgName := strings.TrimPrefix(k, "data.")

		// METADATA with a check id outside ticketguard.checks is a check in
		// the wrong package: the engine only evaluates
		// data.ticketguard.checks, so it would never run, and a check that
		// never runs looks like one that passes.
		if !p.path.HasPrefix(checksRef) {
			if a, id := checkIDAnnotation(p.modules); a != nil {
				fail(p.custom, a.Location, "METADATA declares check id %q but package %s is not under ticketguard.checks: the check would never run (name the package ticketguard.checks.%s)",
					id, pkgName, strings.ReplaceAll(id, "-", "_"))
				continue
			}
		}

		// Custom code may add checks, and library code outside ticketguard;
		// it must not reach into the built-in namespace, where it could
		// change what a built-in check or the shared library says. (Packages
		// under ticketguard.checks get the layout checks below.)
		if p.custom {
			for _, m := range p.modules {
				if !customFiles[m.Package.Location.File] {
					continue
				}
				switch {
				case p.builtin:
					fail(true, m.Package.Location, "package %s is a built-in package; give your policy its own package (a check: ticketguard.checks.<your_check>)", pkgName)
				case m.Package.Path.HasPrefix(rootRef) && !m.Package.Path.HasPrefix(checksRef):
					fail(true, m.Package.Location, "package %s is reserved for built-in policies; a custom check is package ticketguard.checks.<name>, and library code must live outside ticketguard (for example package mycompany.lib)", pkgName)
				}
			}
		}

		if !p.path.HasPrefix(checksRef) {
			continue
		}
		switch {
		case len(p.path) == len(checksRef):
			fail(p.custom, first.Package.Location, "package %s cannot hold rules; a check is package ticketguard.checks.<name>", pkgName)
			continue
		case len(p.path) > len(checksRef)+1:
			fail(p.custom, first.Package.Location, "package %s is nested below a check package; a check is package ticketguard.checks.<name>, and library code lives outside ticketguard.checks", pkgName)
			continue
		}
		key, ok := p.path[len(checksRef)].Value.(ast.String)
		if !ok {
			fail(p.custom, first.Package.Location, "package %s: invalid check package name", pkgName)
			continue
		}

		if !hasFindings(p.modules) {
			fail(p.custom, first.Package.Location, "check package %s has no %q rule; a check reports through `findings contains f if { ... }`", pkgName, findingsRule)
		}

		ann := c.GetAnnotationSet().GetPackageScope(first.Package)
		if ann == nil {
			fail(p.custom, first.Package.Location, "check package %s has no METADATA block (a `# METADATA` comment right above `package` with title, custom.id, custom.severity and custom.remediation)", pkgName)
			continue
		}
		chk, errs := checkFromAnnotations(ann)
		for _, e := range errs {
			fail(p.custom, ann.Location, "check package %s: METADATA %s", pkgName, e)
		}
		if len(errs) > 0 {
			continue
		}
		chk.Package = pkgName
		chk.File = ann.Location.File
		chk.BuiltIn = !customFiles[ann.Location.File]
		defs = append(defs, checkDef{check: chk, key: string(key), path: p.path, row: ann.Location.Row})
	}

	// Duplicate ids: a custom check copied from a built-in one keeps its id
	// unless edited; two checks under one id would make waivers and reports
	// ambiguous.
	// Built-ins first, so a clash is reported at the user's file.
	slices.SortStableFunc(defs, func(a, b checkDef) int {
		switch {
		case a.check.BuiltIn == b.check.BuiltIn:
			return 0
		case a.check.BuiltIn:
			return -1
		default:
			return 1
		}
	})
	byID := map[string]checkDef{}
	for _, d := range defs {
		if prev, dup := byID[d.check.ID]; dup {
			loc := &ast.Location{File: d.check.File, Row: d.row}
			fail(!d.check.BuiltIn || !prev.check.BuiltIn, loc, "duplicate check id %q: already declared by package %s in %s:%d",
				d.check.ID, prev.check.Package, prev.check.File, prev.row)
			continue
		}
		byID[d.check.ID] = d
	}

	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b Problem) int {
			if c := strings.Compare(a.File, b.File); c != 0 {
				return c
			}
			return a.Row - b.Row
		})
		return nil, &LoadError{Kind: KindContract, Custom: custom, Problems: problems}
	}
	slices.SortFunc(defs, func(a, b checkDef) int { return strings.Compare(a.check.ID, b.check.ID) })
	return defs, nil
}

// checkIDAnnotation returns the first METADATA block (any scope) of the
// package's modules that declares custom.id, and that id; nil when none does.
func checkIDAnnotation(mods []*ast.Module) (*ast.Annotations, string) {
	for _, m := range mods {
		for _, a := range m.Annotations {
			if v, ok := a.Custom["id"]; ok && v != nil {
				return a, strings.TrimSpace(fmt.Sprint(v))
			}
		}
	}
	return nil, ""
}

// hasFindings tells whether any module of the package defines `findings`.
func hasFindings(mods []*ast.Module) bool {
	for _, m := range mods {
		for _, r := range m.Rules {
			ref := r.Head.Ref()
			if len(ref) > 0 && ref[0].Equal(ast.VarTerm(findingsRule)) {
				return true
			}
		}
	}
	return false
}

// checkFromAnnotations reads the catalogue entry from a package's METADATA
// and lists every missing or invalid field.
func checkFromAnnotations(a *ast.Annotations) (result.Check, []string) {
	var errs []string
	chk := result.Check{
		Title:       strings.TrimSpace(a.Title),
		Description: strings.TrimSpace(a.Description),
	}
	if chk.Title == "" {
		errs = append(errs, "title is missing")
	}

	str := func(field string, required bool) string {
		v, ok := a.Custom[field]
		if !ok || v == nil {
			if required {
				errs = append(errs, fmt.Sprintf("custom.%s is missing", field))
			}
			return ""
		}
		s, ok := v.(string)
		if !ok {
			errs = append(errs, fmt.Sprintf("custom.%s must be a string, got %v", field, v))
			return ""
		}
		s = strings.TrimSpace(s)
		if s == "" && required {
			errs = append(errs, fmt.Sprintf("custom.%s is empty", field))
		}
		return s
	}

	chk.ID = str("id", true)
	if chk.ID != "" && !idPattern.MatchString(chk.ID) {
		errs = append(errs, fmt.Sprintf("custom.id %q is invalid: use lower-case letters, digits and single hyphens (for example my-check)", chk.ID))
	}
	switch sev := str("severity", true); result.Severity(sev) {
	case result.SeverityError, result.SeverityWarning:
		chk.Severity = result.Severity(sev)
	case "":
	default:
		errs = append(errs, fmt.Sprintf("custom.severity %q is invalid: want error or warning", sev))
	}
	chk.Remediation = str("remediation", true)
	chk.Source = str("source", false)
	return chk, errs
}
