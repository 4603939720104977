// Package config reads ticketguard.yaml: the tenants to collect, how to sign
// in to each (a reference to a certificate or secret, never the secret
// itself), each tenant's Atera e-mail settings, and the endpoints the
// collectors talk to (overridable, which is how the simulator and the tests
// point the real clients at local servers).
//
// Decoding is strict: an unknown key is an error, as is every invalid value,
// and each error names the file, the line and the field. Defaults are applied
// here, so the rest of the program reads a complete, valid Config.
package config

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

// Version is the only configuration format version this build reads.
const Version = 1

// Defaults: Microsoft's and Atera's public hosts, and limits that keep well
// inside Exchange Online's and Graph's throttling for a typical MSP.
const (
	DefaultLogin    = "https://login.microsoftonline.com"
	DefaultExchange = "https://outlook.office365.com"
	DefaultGraph    = "https://graph.microsoft.com"
	DefaultAtera    = "https://app.atera.com"

	DefaultConcurrency       = 8
	DefaultPerTenantRequests = 4
	DefaultTimeout           = 10 * time.Minute
	DefaultRetryBudget       = 2 * time.Minute
	DefaultMessageTraceHours = 24
	DefaultTicketWindowDays  = 7

	// Office 365 SMTP client submission (SPEC §1.9): what a custom SMTP
	// block means when it leaves server, port or ssl out.
	DefaultSMTPServer = "smtp.office365.com"
	DefaultSMTPPort   = 587
	DefaultSMTPSSL    = true
)

// Config is a validated ticketguard.yaml with every default applied.
type Config struct {
	Version   int
	Endpoints Endpoints
	Collect   Collect
	Atera     Atera
	Tenants   []Tenant
	Slack     *Slack // nil: no Slack alerts
	Schedule  Schedule
	Store     Store
	Server    Server
}

// Endpoints are the base URLs of the services collected from, without a
// trailing slash. Each is https (http only on 127.0.0.1 or localhost).
type Endpoints struct {
	Login    string // Microsoft Entra authority host
	Exchange string // Exchange Online admin API host
	Graph    string // Microsoft Graph host (without /v1.0)
	Atera    string // Atera API host (without /api/v3)
	CAFile   string // extra CA certificates (PEM) to trust; empty in production
}

// Collect bounds how collection runs.
type Collect struct {
	Concurrency       int           // tenants collected at once
	PerTenantRequests int           // requests in flight per tenant
	Timeout           time.Duration // per tenant
	RetryBudget       time.Duration // total time a tenant may wait on Retry-After and backoff; 0 = no retries
	MessageTraceHours int           // message trace window, 1 to 240 (Graph allows 10 days)
}

// Atera holds the account-wide Atera settings. atera.defaults is already
// merged into each Tenant's Atera.
type Atera struct {
	APIKey           *Secret // nil: the Atera API is not collected
	TicketWindowDays int
}

// Tenant is one Microsoft 365 tenant to collect.
type Tenant struct {
	Name     string // unique, usable as a file name (snapshots are written as NAME.json)
	TenantID string // directory (tenant) ID, a lower-case GUID
	ClientID string // application (client) ID, a lower-case GUID

	// Exactly one of Certificate and ClientSecret is set.
	Certificate         *Secret // PEM (certificate and key) or PFX
	CertificatePassword *Secret // PFX password, optional
	ClientSecret        *Secret

	Atera TenantAtera // merged over atera.defaults

	// Schedule is the tenant's own schedule (`ticketguard serve`); "" runs
	// it on schedule.default. See Config.Schedule.Spec.
	Schedule string
}

// TenantAtera is the tenant's Atera e-mail settings (Atera: Admin > Email
// settings), declared because no Atera API exposes them.
type TenantAtera struct {
	TicketingAddress string
	SupportAddress   string
	CustomerID       *int64  // only this Atera customer's tickets; nil for all
	SMTP             *SMTP   // nil: Atera sends from its default address
	SMTPPassword     *Secret // for the opt-in SMTP probe only
}

// SMTP is Atera's custom outgoing mail server for the tenant.
type SMTP struct {
	Server   string
	Port     int
	SSL      bool
	Username string
}

// Load reads and validates the configuration file at path. Relative file
// references in it (certificates, secrets, ca_file) are resolved against the
// file's directory, so the configuration means the same from any directory.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	cfg.resolvePaths(filepath.Dir(path))
	return cfg, nil
}

// Parse validates a configuration read from the file named name (used in
// error messages only). Relative file references are left as written.
// Several problems are returned together, one per line, in file order; each
// is an *Error (errors.As finds the first).
func Parse(name string, data []byte) (*Config, error) {
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		doc := &document{file: name, data: data}
		return nil, doc.decodeError(err)
	}
	var docs []*document
	for _, d := range file.Docs {
		if d.Body != nil {
			docs = append(docs, newDocument(name, data, d.Body))
		}
	}
	switch {
	case len(docs) == 0:
		return nil, &Error{File: name, Msg: "empty configuration: expected at least `version: 1` and `tenants:`"}
	case len(docs) > 1:
		return nil, &Error{File: name, Line: lineOf(docs[1].body), Msg: "more than one YAML document: put everything in one"}
	}
	doc := docs[0]
	var raw fileConfig
	probs := &problems{}
	ctx := context.WithValue(context.Background(), problemsKey{}, probs)
	if err := yaml.NewDecoder(&bytes.Buffer{}, yaml.Strict()).DecodeFromNodeContext(ctx, doc.body, &raw); err != nil {
		errs := []*Error{doc.decodeError(err)}
		for _, p := range probs.errs {
			errs = append(errs, doc.decodeError(p))
		}
		return nil, joinErrors(errs)
	}
	b := &builder{doc: doc}
	for _, p := range probs.errs {
		b.errs = append(b.errs, doc.decodeError(p))
	}
	cfg := b.config(&raw)
	if err := joinErrors(b.errs); err != nil {
		return nil, err
	}
	return cfg, nil
}

// AteraSection is the snapshot's `atera` object for the tenant: the declared
// addresses, the customer id when set, and the SMTP settings (null when Atera
// uses its default sender). No password, ever.
func (t Tenant) AteraSection() map[string]any {
	out := map[string]any{
		"ticketing_address": t.Atera.TicketingAddress,
		"support_address":   t.Atera.SupportAddress,
		"smtp":              nil,
	}
	if t.Atera.CustomerID != nil {
		out["customer_id"] = *t.Atera.CustomerID
	}
	if s := t.Atera.SMTP; s != nil {
		out["smtp"] = map[string]any{
			"server":   s.Server,
			"port":     s.Port,
			"ssl":      s.SSL,
			"username": s.Username,
		}
	}
	return out
}

// Tenant returns the tenant called name.
func (c *Config) Tenant(name string) (Tenant, error) {
	for _, t := range c.Tenants {
		if strings.EqualFold(t.Name, name) {
			return t, nil
		}
	}
	return Tenant{}, fmt.Errorf("no tenant %q in the configuration", name)
}

func (c *Config) resolvePaths(dir string) {
	if c.Endpoints.CAFile != "" && !filepath.IsAbs(c.Endpoints.CAFile) {
		c.Endpoints.CAFile = filepath.Join(dir, c.Endpoints.CAFile)
	}
	c.Atera.APIKey.relativeTo(dir)
	for i := range c.Tenants {
		t := &c.Tenants[i]
		t.Certificate.relativeTo(dir)
		t.CertificatePassword.relativeTo(dir)
		t.ClientSecret.relativeTo(dir)
		t.Atera.SMTPPassword.relativeTo(dir)
	}
	c.Slack.relativeTo(dir)
	if c.Store.Path != "" && !filepath.IsAbs(c.Store.Path) {
		c.Store.Path = filepath.Join(dir, c.Store.Path)
	}
}
