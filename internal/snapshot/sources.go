package snapshot

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/ticketguard/ticketguard/internal/suggest"
)

// Source names in `errors[].source`. The Rego library (lib.snap.errored)
// matches an error to the data it spoils by this name, compared
// case-insensitively; any other spelling matches nothing, so the checks would
// read the data the user marked as failed as if it were complete. Hence an
// unknown source is an input error, never ignored.
var (
	// cmdletSource is a cmdlet name on its own: Get-InboxRule, also for a
	// per-recipient failure (the address belongs in the message).
	cmdletSource = regexp.MustCompile(`(?i)^get-[a-z][a-z0-9]*$`)
	// graphSource is a Graph section: graph:messageRules as the collector
	// writes it, graph.messageRules as the checks name it.
	graphSource = regexp.MustCompile(`(?i)^graph[:.][a-z][a-z0-9]*$`)
	// fixedSources are the live sources that are not a cmdlet or a Graph
	// section (docs/DESIGN.md, "Collector plumbing").
	fixedSources = []string{"atera_api", "smtp_probe", "auth", "collection"}
	// graphSections are the sections the collector fills or reports errors for.
	graphSections = []string{"messageRules", "contacts", "groupMembers", "messageTraces", "messageTraceDetails"}
)

// sourceForms words the accepted forms, for error hints.
const sourceForms = "a source is a cmdlet name on its own (Get-InboxRule), graph:<section> (graph:messageRules), atera_api, smtp_probe, auth or collection"

// knownSource reports whether s names a source the checks can match.
func knownSource(s string) bool {
	if cmdletSource.MatchString(s) || graphSource.MatchString(s) {
		return true
	}
	for _, f := range fixedSources {
		if strings.EqualFold(s, f) {
			return true
		}
	}
	return false
}

// suggestSource returns the accepted source s most likely meant, or "".
func suggestSource(s string) string {
	if c := cmdletIn(s); c != "" {
		return c
	}
	ls := strings.ToLower(s)
	var graph []string
	for _, g := range graphSections {
		graph = append(graph, "graph:"+g)
		if strings.Contains(ls, strings.ToLower(g)) {
			return "graph:" + g
		}
	}
	return suggest.Closest(s, slices.Concat(fixedSources, knownCmdlets(), graph))
}

// cmdletIn returns the known cmdlet whose name s contains, with or without
// its Get- prefix, in any case ("exchange:Get-MailContact",
// "Get-MailContact -ResultSize Unlimited" and "MailContact" all give
// Get-MailContact); the longest such name wins, so that
// "DistributionGroupMember" is not taken for Get-DistributionGroup. "" when
// none is contained.
func cmdletIn(s string) string {
	ls := strings.ToLower(s)
	best := ""
	for _, c := range knownCmdlets() {
		bare := strings.ToLower(strings.TrimPrefix(c, "Get-"))
		if strings.Contains(ls, bare) && len(c) > len(best) {
			best = c
		}
	}
	return best
}

// errorSources checks every `errors[].source` of the raw document. The
// schema has already checked that each is a non-empty string.
func (n *normaliser) errorSources(root map[string]any) {
	list, _ := root["errors"].([]any)
	for i, item := range list {
		m, _ := item.(map[string]any)
		src, ok := m["source"].(string)
		if !ok || knownSource(src) {
			continue
		}
		hint := sourceForms
		if s := suggestSource(src); s != "" {
			hint = fmt.Sprintf("did you mean %q? %s", s, sourceForms)
		}
		n.fail([]string{"errors", fmt.Sprint(i), "source"},
			fmt.Sprintf("%q is not a source ticketguard knows, so no check would treat that data as failed", src), hint)
	}
}
