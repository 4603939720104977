package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// builtinPrefix names embedded files in messages the way they sit in the
// repository, so an error in a built-in policy points at a real file.
const builtinPrefix = "policies/"

// factsPath is where the built-in facts live inside the embedded tree; they
// are mounted at data.ticketguard.facts.
const factsPath = "data/facts.json"

// source is one Rego file to compile.
type source struct {
	name   string // file name used in locations and error messages
	custom bool   // from the user's --policies directories
	test   bool   // *_test.rego: only compiled for `policy test`
	text   []byte
}

func isTestFile(name string) bool { return strings.HasSuffix(name, "_test.rego") }

// builtinSources reads every .rego file of the embedded lib/ and checks/.
func builtinSources(fsys fs.FS) ([]source, error) {
	var out []source
	for _, root := range []string{"lib", "checks"} {
		err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || path.Ext(p) != ".rego" {
				return nil
			}
			text, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			out = append(out, source{name: builtinPrefix + p, test: isTestFile(p), text: text})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read built-in policies: %w", err)
		}
	}
	return out, nil
}

// customSources reads every .rego file below the user's directories (a
// single .rego file is accepted as well). Hidden directories such as .git are
// skipped. A directory without any .rego file is an error: it is almost
// always a mistyped path, and silently checking nothing would look like
// success.
func customSources(dirs []string) ([]source, error) {
	var out []source
	seen := map[string]bool{}
	var problems []Problem
	for _, dir := range dirs {
		dir = filepath.Clean(dir)
		found := 0
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != dir && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if filepath.Ext(p) != ".rego" {
				return nil
			}
			found++
			if seen[p] { // the same file reached through two --policies paths
				return nil
			}
			seen[p] = true
			text, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out = append(out, source{name: filepath.ToSlash(p), custom: true, test: isTestFile(p), text: text})
			return nil
		})
		switch {
		case err != nil:
			problems = append(problems, Problem{File: dir, Message: errorText(err)})
		case found == 0:
			problems = append(problems, Problem{File: dir, Message: "no .rego files found"})
		}
	}
	if len(problems) > 0 {
		return nil, &LoadError{Kind: KindInput, Custom: true, Problems: problems}
	}
	return out, nil
}

// errorText drops the Go-specific "open"/"lstat" operation prefix of path
// errors: the path is printed next to it already.
func errorText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// parseOptions: Rego v1 only, with METADATA blocks attached to their nodes.
var parseOptions = ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true}

// parse parses the sources, skipping tests unless withTests. Every file is
// parsed, so that one run reports all syntax errors rather than the first.
func parse(srcs []source, withTests bool) (map[string]*ast.Module, error) {
	mods := make(map[string]*ast.Module, len(srcs))
	var problems []Problem
	custom := false
	for _, s := range srcs {
		if s.test && !withTests {
			continue
		}
		if _, dup := mods[s.name]; dup {
			// Only possible when a --policies path spells a built-in file's
			// name (for example running from the repository with
			// --policies policies): say so rather than drop one silently.
			problems = append(problems, Problem{File: s.name, Message: "has the same name as a built-in policy file; built-in policies are always loaded, pass only your own directories"})
			custom = true
			continue
		}
		m, err := ast.ParseModuleWithOpts(s.name, string(s.text), parseOptions)
		if err != nil {
			problems = append(problems, astProblems(err)...)
			custom = custom || s.custom
			continue
		}
		if m == nil {
			problems = append(problems, Problem{File: s.name, Message: "rego_parse_error: empty module"})
			custom = custom || s.custom
			continue
		}
		mods[s.name] = m
	}
	if len(problems) > 0 {
		return nil, &LoadError{Kind: KindCompile, Custom: custom, Problems: problems}
	}
	return mods, nil
}

// newCompiler is the one compiler configuration used for evaluation, for
// `policy test` and for the strict-compile test: strict mode, as
// `opa check --strict`, without the builtins a check must not call.
func newCompiler() *ast.Compiler {
	return ast.NewCompiler().
		WithStrict(true).
		WithDefaultRegoVersion(ast.RegoV1).
		WithCapabilities(capabilities())
}

// forbidden are the builtins no policy may call, with why. A check must give
// the same result for the same snapshot and evaluation time (re-running an
// audit, comparing runs and waivers all rely on it), and custom policies are
// code from outside ticketguard running next to tenant data and credentials:
// nothing may reach the network or read the process environment. Besides the
// ones named here, every builtin OPA marks non-deterministic is removed.
var forbidden = map[string]string{
	"http.send":          "it reaches the network; a check judges the snapshot alone and must not send tenant data anywhere",
	"net.lookup_ip_addr": "it reaches the network (DNS); a check judges the snapshot alone and must not send tenant data anywhere",
	"opa.runtime":        "it reads the process environment, which can hold secrets",
	"time.now_ns":        "it reads the clock; use input.now (RFC 3339) or input.now_ns, the evaluation time ticketguard passes (--now)",
	"rand.intn":          "it is random",
	"uuid.rfc4122":       "it is random",
}

// capabilities is this OPA's builtins minus the forbidden and the
// non-deterministic ones. A call to a removed builtin fails to compile
// ("undefined function"); forbiddenProblem words it.
var capabilities = sync.OnceValue(func() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	caps.Builtins = slices.DeleteFunc(slices.Clone(caps.Builtins), func(b *ast.Builtin) bool {
		_, named := forbidden[b.Name]
		return named || b.Nondeterministic
	})
	return caps
})

// forbiddenProblem rewrites the compiler's "undefined function" error for a
// builtin removed by capabilities, so that the user learns why it is missing
// rather than suspecting a typo or an old OPA.
func forbiddenProblem(e *ast.Error) (string, bool) {
	if e.Code != ast.TypeErr {
		return "", false
	}
	name, ok := strings.CutPrefix(e.Message, "undefined function ")
	if !ok && strings.HasPrefix(e.Message, "with keyword target must reference existing") && e.Location != nil {
		// A test mocking a removed builtin: `... with time.now_ns as 1`.
		name, ok = string(e.Location.Text), true
	}
	if !ok {
		return "", false
	}
	why, named := forbidden[name]
	if !named {
		b, exists := ast.BuiltinMap[name]
		if !exists || !b.Nondeterministic {
			return "", false
		}
		why = "its result is not deterministic"
	}
	return fmt.Sprintf("%s: %s is not available to ticketguard policies: checks must be reproducible: %s", e.Code, name, why), true
}

// compileErrors turns the compiler's errors into a LoadError, blaming the
// user's policies when any error is located in one of their files.
func compileErrors(errs ast.Errors, srcs []source) error {
	customFiles := map[string]bool{}
	for _, s := range srcs {
		if s.custom {
			customFiles[s.name] = true
		}
	}
	problems := astProblems(errs)
	custom := false
	for _, p := range problems {
		custom = custom || customFiles[p.File]
	}
	return &LoadError{Kind: KindCompile, Custom: custom, Problems: problems}
}

// astProblems converts parser and compiler errors, keeping the error code
// (rego_type_error, ...) and any detail lines the message needs.
func astProblems(err error) []Problem {
	var errs ast.Errors
	if !errors.As(err, &errs) {
		return []Problem{{Message: err.Error()}}
	}
	errs.Sort()
	out := make([]Problem, 0, len(errs))
	for _, e := range errs {
		p := Problem{Message: e.Code + ": " + e.Message}
		if msg, ok := forbiddenProblem(e); ok {
			p.Message = msg
		}
		if e.Location != nil {
			p.File, p.Row = e.Location.File, e.Location.Row
		}
		if e.Details != nil {
			for _, l := range e.Details.Lines() {
				p.Message += "\n\t" + l
			}
		}
		out = append(out, p)
	}
	return out
}

// newStore holds the built-in facts at data.ticketguard.facts.
func newStore(fsys fs.FS) (storage.Store, error) {
	raw, err := fs.ReadFile(fsys, factsPath)
	if err != nil {
		return nil, fmt.Errorf("read built-in facts: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var facts map[string]any
	if err := dec.Decode(&facts); err != nil {
		return nil, fmt.Errorf("read built-in facts %s%s: %w", builtinPrefix, factsPath, err)
	}
	return inmem.NewFromObjectWithOpts(map[string]any{
		"ticketguard": map[string]any{"facts": facts},
	}, inmem.OptRoundTripOnWrite(false)), nil
}

// sortedNames returns the module names in a stable order.
func sortedNames(mods map[string]*ast.Module) []string {
	names := make([]string, 0, len(mods))
	for n := range mods {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
