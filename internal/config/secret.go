package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Secret says where a secret is read from: an environment variable or a
// file, exactly one of the two. The configuration never holds a secret's
// value, and a Secret never does either: it is safe to print.
type Secret struct {
	Env  string // environment variable name
	File string // file path; relative paths are resolved against the configuration file's directory

	// Where the reference is written, so an unreadable secret is reported as
	// a configuration error with its line and field (see CheckSecrets).
	line  int
	field string
}

// ErrNoSecret is returned by Resolve and Bytes on a zero Secret.
var ErrNoSecret = errors.New("no secret reference")

// maxSecretSize bounds what is read from a secret file: a PFX is a few KiB,
// so anything larger is a wrong path (a log, a device), not a secret.
const maxSecretSize = 1 << 20

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

const inlineSecret = "secrets are never written inline; use {env: NAME} or {file: PATH}"

// UnmarshalYAML implements yaml.NodeUnmarshalerContext. A scalar is
// rejected without quoting it: it is most likely the secret itself. Parse
// passes a problem list in ctx so one bad secret does not hide the file's
// other problems; without one, the problem is returned.
func (s *Secret) UnmarshalYAML(ctx context.Context, node ast.Node) error {
	if err := s.decode(node); err != nil {
		if p, ok := ctx.Value(problemsKey{}).(*problems); ok {
			p.add(err)
			return nil
		}
		return err
	}
	return nil
}

func (s *Secret) decode(node ast.Node) error {
	s.line = lineOf(node)
	s.field = strings.TrimPrefix(node.GetPath(), "$.")
	switch node.Type() {
	case ast.MappingType, ast.MappingValueType:
	case ast.SequenceType:
		return nodeError(node, "expected {env: NAME} or {file: PATH}, got a list")
	default:
		return nodeError(node, inlineSecret)
	}
	var ref struct {
		Env  *string `yaml:"env"`
		File *string `yaml:"file"`
	}
	if err := yaml.NodeToValue(node, &ref, yaml.Strict()); err != nil {
		return err
	}
	switch {
	case ref.Env != nil && ref.File != nil:
		return nodeError(node, "use either env or file, not both")
	case ref.Env != nil:
		if !envName.MatchString(*ref.Env) {
			// Not quoted: a secret pasted here by mistake must not reach a log.
			return nodeError(node, "env: not an environment variable name (letters, digits and _, not starting with a digit)")
		}
		s.Env = *ref.Env
	case ref.File != nil:
		if strings.TrimSpace(*ref.File) == "" {
			return nodeError(node, "file: empty path")
		}
		s.File = *ref.File
	default:
		return nodeError(node, "expected {env: NAME} or {file: PATH}")
	}
	return nil
}

// String names the source, never the value: "env:NAME" or "file:PATH".
func (s Secret) String() string {
	switch {
	case s.Env != "":
		return "env:" + s.Env
	case s.File != "":
		return "file:" + s.File
	}
	return "<no secret>"
}

// Resolve reads the secret as text. A file's trailing newline (what editors
// and `echo` add) is trimmed. An unset variable, an unreadable file and an
// empty secret are errors naming the variable or the file, never the value.
func (s Secret) Resolve() (string, error) {
	b, err := s.read()
	if err != nil {
		return "", err
	}
	v := string(b)
	if s.File != "" {
		v = strings.TrimRight(v, "\r\n")
	}
	if v == "" {
		return "", s.emptyError()
	}
	return v, nil
}

// Bytes reads the secret exactly as stored, for binary material such as a
// PFX file, where trimming a trailing byte would corrupt it.
func (s Secret) Bytes() ([]byte, error) {
	b, err := s.read()
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, s.emptyError()
	}
	return b, nil
}

func (s Secret) read() ([]byte, error) {
	switch {
	case s.Env != "":
		v, ok := os.LookupEnv(s.Env)
		if !ok {
			return nil, fmt.Errorf("environment variable %s is not set", s.Env)
		}
		return []byte(v), nil
	case s.File != "":
		f, err := os.Open(s.File)
		if err != nil {
			return nil, fmt.Errorf("read secret: %w", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxSecretSize+1))
		if err != nil {
			return nil, fmt.Errorf("read secret file %s: %w", s.File, err)
		}
		if len(b) > maxSecretSize {
			return nil, fmt.Errorf("secret file %s is larger than %d bytes: not a secret", s.File, maxSecretSize)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%w: expected {env: NAME} or {file: PATH}", ErrNoSecret)
}

func (s Secret) emptyError() error {
	if s.Env != "" {
		return fmt.Errorf("environment variable %s is empty", s.Env)
	}
	return fmt.Errorf("secret file %s is empty", s.File)
}

// relativeTo resolves a relative file reference against dir.
func (s *Secret) relativeTo(dir string) {
	if s != nil && s.File != "" && !filepath.IsAbs(s.File) {
		s.File = filepath.Join(dir, s.File)
	}
}
