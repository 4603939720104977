package store

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realisticSnapshot returns a snapshot of at least size bytes: a real test
// tenant with its mailbox list grown by copies of its own mailboxes, each
// with fresh GUIDs and names, so that it compresses like a real tenant of
// that size rather than like repeated text.
func realisticSnapshot(t testing.TB, size int) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "tenants", "compliant-mailbox.json"))
	if err != nil {
		t.Fatal(err)
	}
	var snap map[string]any
	if err := json.Unmarshal(b, &snap); err != nil {
		t.Fatal(err)
	}
	ex := snap["exchange"].(map[string]any)
	mailboxes, _ := ex["Get-Mailbox"].([]any)
	if len(mailboxes) == 0 {
		t.Fatal("test tenant has no mailboxes")
	}
	templ, err := json.Marshal(mailboxes[0])
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	first := []string{"anna", "ben", "chloe", "dmitri", "eva", "farid", "grace", "hugo", "ines", "jonas", "kemal", "lena"}
	last := []string{"meyer", "okafor", "rossi", "nguyen", "schmidt", "dubois", "kowalski", "silva", "haddad", "berg"}
	compact, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	cur := len(compact)
	for i := 0; cur < size; i++ {
		var m map[string]any
		if err := json.Unmarshal(templ, &m); err != nil {
			t.Fatal(err)
		}
		guid := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint64()&0xffffffffffff)
		alias := fmt.Sprintf("%s.%s%d", first[rng.IntN(len(first))], last[rng.IntN(len(last))], i)
		addr := alias + "@contoso.com"
		for k, v := range m {
			s, ok := v.(string)
			if !ok {
				continue
			}
			switch {
			case strings.Contains(k, "Guid") || strings.HasSuffix(k, "ObjectId") || k == "Identity" || k == "Id" || k == "DistinguishedName":
				m[k] = guid
			case strings.Contains(s, "@"):
				m[k] = addr
			case k == "Alias" || k == "Name":
				m[k] = alias
			case k == "DisplayName":
				m[k] = strings.ToUpper(alias[:1]) + alias[1:]
			case k == "LegacyExchangeDN":
				m[k] = "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=" + strings.ReplaceAll(guid, "-", "") + "-" + alias
			}
		}
		m["EmailAddresses"] = []any{"SMTP:" + addr, "smtp:" + alias + "@contoso.onmicrosoft.com", "SIP:" + addr}
		m["DeliverToMailboxAndForward"] = rng.IntN(10) == 0
		mailboxes = append(mailboxes, m)
		mb, _ := json.Marshal(m)
		cur += len(mb) + 1
	}
	ex["Get-Mailbox"] = mailboxes
	out, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
