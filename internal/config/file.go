package config

// The types in this file mirror ticketguard.yaml key for key. They are decoded
// strictly (an unknown key is an error) and then turned into the exported
// types by build.go, which applies defaults and validates with line numbers.
// Pointers mark "absent" where absence means "use the default" and a written
// zero would be an error.
//
// Adding a section (issue 4: schedule, store, slack) means: a field here with
// its yaml tag, the exported type and field in config.go, and a build step in
// build.go. Until then strict decoding rejects those keys as unknown.

type fileConfig struct {
	Version   *int          `yaml:"version"`
	Endpoints fileEndpoints `yaml:"endpoints"`
	Collect   fileCollect   `yaml:"collect"`
	Atera     fileAtera     `yaml:"atera"`
	Tenants   []fileTenant  `yaml:"tenants"`
	Slack     *fileSlack    `yaml:"slack"`
	Schedule  fileSchedule  `yaml:"schedule"`
	Store     fileStore     `yaml:"store"`
	Server    fileServer    `yaml:"server"`
}

type fileEndpoints struct {
	Login    *string `yaml:"login"`
	Exchange *string `yaml:"exchange"`
	Graph    *string `yaml:"graph"`
	Atera    *string `yaml:"atera"`
	CAFile   *string `yaml:"ca_file"`
}

type fileCollect struct {
	Concurrency       *int    `yaml:"concurrency"`
	PerTenantRequests *int    `yaml:"per_tenant_requests"`
	Timeout           *string `yaml:"timeout"`
	RetryBudget       *string `yaml:"retry_budget"`
	MessageTraceHours *int    `yaml:"message_trace_hours"`
}

type fileAtera struct {
	APIKey           *Secret         `yaml:"api_key"`
	TicketWindowDays *int            `yaml:"ticket_window_days"`
	Defaults         *fileAteraBlock `yaml:"defaults"`
}

type fileTenant struct {
	Name                string          `yaml:"name"`
	TenantID            string          `yaml:"tenant_id"`
	ClientID            string          `yaml:"client_id"`
	Certificate         *Secret         `yaml:"certificate"`
	CertificatePassword *Secret         `yaml:"certificate_password"`
	ClientSecret        *Secret         `yaml:"client_secret"`
	Atera               *fileAteraBlock `yaml:"atera"`
	Schedule            *string         `yaml:"schedule"`
}

// fileAteraBlock is both a tenant's atera block and atera.defaults.
type fileAteraBlock struct {
	TicketingAddress string    `yaml:"ticketing_address"`
	SupportAddress   string    `yaml:"support_address"`
	CustomerID       *int64    `yaml:"customer_id"`
	SMTP             *fileSMTP `yaml:"smtp"` // nil for both absent and null: build.go asks the document which
	SMTPPassword     *Secret   `yaml:"smtp_password"`
}

type fileSMTP struct {
	Server   string `yaml:"server"`
	Port     *int   `yaml:"port"`
	SSL      *bool  `yaml:"ssl"`
	Username string `yaml:"username"`
}
