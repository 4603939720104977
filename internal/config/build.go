package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// builder turns the decoded file into a Config, applying defaults and
// collecting every problem with its line, so one run shows them all.
type builder struct {
	doc  *document
	errs []*Error
}

func (b *builder) fail(path, format string, args ...any) {
	b.errs = append(b.errs, b.doc.errorAt(path, format, args...))
}

func (b *builder) config(f *fileConfig) *Config {
	cfg := &Config{Version: Version}
	switch {
	case f.Version == nil:
		b.fail("$.version", "required: write `version: %d` at the top", Version)
	case *f.Version != Version:
		b.fail("$.version", "unsupported version %d: this ticketguard reads version %d", *f.Version, Version)
	}
	cfg.Endpoints = b.endpoints(f.Endpoints)
	cfg.Collect = b.collect(f.Collect)
	var defaults *fileAteraBlock
	cfg.Atera, defaults = b.atera(f.Atera)
	cfg.Tenants = b.tenants(f.Tenants, defaults)
	cfg.Slack = b.slack(f.Slack, cfg.Tenants)
	cfg.Schedule = b.schedule(f.Schedule, f.Tenants, cfg.Tenants, cfg.Collect.Concurrency)
	cfg.Store = b.store(f.Store)
	cfg.Server = b.server(f.Server)
	return cfg
}

func (b *builder) endpoints(f fileEndpoints) Endpoints {
	ep := Endpoints{
		Login:    b.endpoint("$.endpoints.login", f.Login, DefaultLogin),
		Exchange: b.endpoint("$.endpoints.exchange", f.Exchange, DefaultExchange),
		Graph:    b.endpoint("$.endpoints.graph", f.Graph, DefaultGraph),
		Atera:    b.endpoint("$.endpoints.atera", f.Atera, DefaultAtera),
	}
	if f.CAFile != nil {
		ep.CAFile = *f.CAFile
	}
	return ep
}

// endpoint validates a base URL. Messages never quote it: a URL may carry a
// password in its user part.
func (b *builder) endpoint(path string, v *string, def string) string {
	if v == nil || *v == "" {
		return def
	}
	u, err := url.Parse(*v)
	switch {
	case err != nil:
		b.fail(path, "not a URL")
	case u.Scheme == "" || u.Host == "":
		b.fail(path, "must be an absolute URL such as %s", def)
	case u.User != nil:
		b.fail(path, "must not carry a user name or password")
	case u.RawQuery != "" || u.Fragment != "":
		b.fail(path, "must not have a query or fragment: give the base URL only")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		b.fail(path, "http is allowed only for 127.0.0.1 and localhost (test servers); use https")
	case u.Scheme != "https" && u.Scheme != "http":
		b.fail(path, "scheme must be https")
	default:
		return strings.TrimRight(u.String(), "/")
	}
	return def
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (b *builder) collect(f fileCollect) Collect {
	return Collect{
		Concurrency:       b.intIn("$.collect.concurrency", f.Concurrency, DefaultConcurrency, 1, 256),
		PerTenantRequests: b.intIn("$.collect.per_tenant_requests", f.PerTenantRequests, DefaultPerTenantRequests, 1, 32),
		Timeout:           b.duration("$.collect.timeout", f.Timeout, DefaultTimeout, false),
		RetryBudget:       b.duration("$.collect.retry_budget", f.RetryBudget, DefaultRetryBudget, true),
		// Graph's message trace spans at most 10 days per query.
		MessageTraceHours: b.intIn("$.collect.message_trace_hours", f.MessageTraceHours, DefaultMessageTraceHours, 1, 240),
	}
}

func (b *builder) intIn(path string, v *int, def, lo, hi int) int {
	if v == nil {
		return def
	}
	if *v < lo || *v > hi {
		b.fail(path, "must be between %d and %d, got %d", lo, hi, *v)
		return def
	}
	return *v
}

func (b *builder) duration(path string, v *string, def time.Duration, zeroOK bool) time.Duration {
	if v == nil {
		return def
	}
	d, err := time.ParseDuration(*v)
	switch {
	case err != nil:
		b.fail(path, "%q is not a duration: use Go syntax such as 90s, 10m or 1h30m", *v)
	case d < 0 || (d == 0 && !zeroOK):
		b.fail(path, "must be positive, got %s", *v)
	default:
		return d
	}
	return def
}

func (b *builder) atera(f fileAtera) (Atera, *fileAteraBlock) {
	a := Atera{
		APIKey:           copySecret(f.APIKey),
		TicketWindowDays: b.intIn("$.atera.ticket_window_days", f.TicketWindowDays, DefaultTicketWindowDays, 1, 365),
	}
	if d := f.Defaults; d != nil {
		b.ateraBlock("$.atera.defaults", d)
		if d.CustomerID != nil {
			b.fail("$.atera.defaults.customer_id", "customer_id is per tenant: set it in the tenant's atera block")
		}
		return a, d
	}
	return a, &fileAteraBlock{}
}

func (b *builder) tenants(list []fileTenant, defaults *fileAteraBlock) []Tenant {
	if len(list) == 0 {
		b.fail("$.tenants", "at least one tenant is required")
		return nil
	}
	seen := map[string]int{}
	out := make([]Tenant, 0, len(list))
	for i, f := range list {
		path := fmt.Sprintf("$.tenants[%d]", i)
		out = append(out, b.tenant(path, f, defaults))
		if f.Name == "" {
			continue
		}
		// Case-insensitive: the name becomes a file name, and macOS and
		// Windows would write both tenants to one file.
		key := strings.ToLower(f.Name)
		if j, dup := seen[key]; dup {
			b.fail(path+".name", "duplicate tenant name: tenants[%d] (line %d) has it already; names must differ, ignoring case",
				j, b.doc.line(fmt.Sprintf("$.tenants[%d].name", j)))
			continue
		}
		seen[key] = i
	}
	return out
}

var (
	guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	// Device names Windows will not create a file for, whatever the extension.
	reservedNames = map[string]bool{"con": true, "prn": true, "aux": true, "nul": true,
		"com1": true, "com2": true, "com3": true, "com4": true, "com5": true, "com6": true, "com7": true, "com8": true, "com9": true,
		"lpt1": true, "lpt2": true, "lpt3": true, "lpt4": true, "lpt5": true, "lpt6": true, "lpt7": true, "lpt8": true, "lpt9": true}
)

func (b *builder) tenant(path string, f fileTenant, defaults *fileAteraBlock) Tenant {
	t := Tenant{
		Name:                f.Name,
		TenantID:            strings.ToLower(f.TenantID),
		ClientID:            strings.ToLower(f.ClientID),
		Certificate:         copySecret(f.Certificate),
		CertificatePassword: copySecret(f.CertificatePassword),
		ClientSecret:        copySecret(f.ClientSecret),
	}
	base, _, _ := strings.Cut(strings.ToLower(f.Name), ".")
	switch {
	case f.Name == "":
		b.fail(path+".name", "required: a short name for the tenant, e.g. acme (it names the snapshot file)")
	case !namePattern.MatchString(f.Name) || strings.HasSuffix(f.Name, "."):
		b.fail(path+".name", "%q cannot be a file name: use letters, digits, '.', '_' and '-' (at most 63, starting with a letter or digit)", f.Name)
	case reservedNames[base]:
		b.fail(path+".name", "%q is a reserved device name on Windows", f.Name)
	}
	idsOK := b.guid(path+".tenant_id", f.TenantID, "the Directory (tenant) ID shown in Microsoft Entra admin centre > Overview")
	idsOK = b.guid(path+".client_id", f.ClientID, "the Application (client) ID of the app registration") && idsOK
	if idsOK && t.TenantID == t.ClientID {
		b.fail(path+".client_id", "equals tenant_id: copy the Application (client) ID from the app registration's Overview")
	}
	switch {
	case f.Certificate != nil && f.ClientSecret != nil:
		b.fail(path+".client_secret", "set either certificate or client_secret, not both")
	case f.Certificate == nil && f.ClientSecret == nil:
		b.fail(path, "sign-in needs a certificate ({file: PATH} to a PEM or PFX file) or a client_secret ({env: NAME} or {file: PATH})")
	}
	if f.CertificatePassword != nil && f.Certificate == nil {
		b.fail(path+".certificate_password", "only meaningful with certificate (the PFX file's password)")
	}
	t.Atera = b.tenantAtera(path+".atera", f.Atera, defaults)
	return t
}

func (b *builder) guid(path, v, what string) bool {
	switch {
	case v == "":
		b.fail(path, "required: %s", what)
	case !guidPattern.MatchString(v):
		b.fail(path, "%q is not a GUID: expected %s, like 7f0c3c8e-2a4b-4c1d-9e5f-0a1b2c3d4e5f", v, what)
	default:
		return true
	}
	return false
}

// ateraBlock checks the form of what a block (a tenant's, or the defaults)
// writes. Whether required values are present is checked after merging, so a
// bad default is reported once, where it is written.
func (b *builder) ateraBlock(path string, f *fileAteraBlock) {
	b.address(path+".ticketing_address", f.TicketingAddress)
	b.address(path+".support_address", f.SupportAddress)
	if f.CustomerID != nil && *f.CustomerID <= 0 {
		b.fail(path+".customer_id", "must be a positive Atera customer ID, got %d", *f.CustomerID)
	}
	if s := f.SMTP; s != nil {
		if s.Server != "" && !isHost(s.Server) {
			b.fail(path+".smtp.server", "%q is not a host name such as smtp.office365.com (no scheme; the port has its own field)", s.Server)
		}
		if s.Port != nil && (*s.Port < 1 || *s.Port > 65535) {
			b.fail(path+".smtp.port", "must be a TCP port (1-65535), got %d", *s.Port)
		}
	}
}

func (b *builder) address(path, v string) {
	if v == "" {
		return
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v || !strings.Contains(v[strings.LastIndexByte(v, '@')+1:], ".") {
		b.fail(path, "%q is not an e-mail address such as support@acme.com", v)
	}
}

var hostPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$`)

func isHost(s string) bool {
	return net.ParseIP(s) != nil || (len(s) <= 253 && hostPattern.MatchString(s))
}

// tenantAtera merges the tenant's atera block over atera.defaults: a value
// the tenant writes wins; `smtp: null` on the tenant means Atera's default
// sender, whatever the defaults say. A custom SMTP block takes server, port
// and ssl from the defaults, then from Office 365's submission settings.
func (b *builder) tenantAtera(path string, f, d *fileAteraBlock) TenantAtera {
	if f == nil {
		f = &fileAteraBlock{}
	} else {
		b.ateraBlock(path, f)
	}
	a := TenantAtera{
		TicketingAddress: firstOf(f.TicketingAddress, d.TicketingAddress),
		SupportAddress:   firstOf(f.SupportAddress, d.SupportAddress),
		CustomerID:       f.CustomerID,
		SMTPPassword:     copySecret(f.SMTPPassword),
	}
	if a.SMTPPassword == nil {
		a.SMTPPassword = copySecret(d.SMTPPassword)
	}
	if a.TicketingAddress == "" {
		b.fail(path+".ticketing_address", "required: Atera's ticketing address (Atera: Admin > Email settings), here or in atera.defaults")
	}
	if a.SupportAddress == "" {
		b.fail(path+".support_address", "required: the Primary Customer Support Address (Atera: Admin > Email settings), here or in atera.defaults")
	}
	if a.TicketingAddress != "" && strings.EqualFold(a.TicketingAddress, a.SupportAddress) {
		b.fail(path+".support_address", "is the ticketing address itself: it must be the organisation's own support address that forwards to it")
	}

	smtpPath := path + ".smtp"
	custom := !b.doc.isNull(smtpPath) && (f.SMTP != nil || (d.SMTP != nil && d.SMTP.Username != ""))
	if custom {
		s := SMTP{Server: DefaultSMTPServer, Port: DefaultSMTPPort, SSL: DefaultSMTPSSL}
		s.overlay(d.SMTP)
		s.overlay(f.SMTP)
		if s.Username == "" {
			b.fail(smtpPath+".username", "required for custom SMTP: the user name Atera signs in with; write `smtp: null` for Atera's default sender")
		}
		a.SMTP = &s
	}
	if a.SMTP == nil && f.SMTPPassword != nil {
		b.fail(path+".smtp_password", "set, but the tenant has no custom SMTP (smtp is null or has no username)")
	}
	return a
}

func (s *SMTP) overlay(f *fileSMTP) {
	if f == nil {
		return
	}
	if f.Server != "" {
		s.Server = f.Server
	}
	if f.Port != nil {
		s.Port = *f.Port
	}
	if f.SSL != nil {
		s.SSL = *f.SSL
	}
	if f.Username != "" {
		s.Username = f.Username
	}
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// copySecret gives each tenant its own Secret, so resolving relative paths
// on one never touches another's.
func copySecret(s *Secret) *Secret {
	if s == nil {
		return nil
	}
	c := *s
	return &c
}
