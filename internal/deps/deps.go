//go:build tools

package deps

import (
	_ "github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	_ "github.com/emersion/go-smtp"
	_ "github.com/evanphx/json-patch/v5"
	_ "github.com/mattn/go-isatty"
	_ "github.com/microsoftgraph/msgraph-sdk-go"
	_ "github.com/open-policy-agent/opa/cmd"
	_ "github.com/open-policy-agent/opa/v1/rego"
	_ "github.com/robfig/cron/v3"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "github.com/slack-go/slack"
	_ "github.com/spf13/cobra"
	_ "modernc.org/sqlite"
	_ "sigs.k8s.io/yaml"
)
