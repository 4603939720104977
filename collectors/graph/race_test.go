package graph

import (
	"sync"
	"testing"
	"time"
)

// Building a client must not write anything a running collection reads.
// msgraph-sdk-go's constructor sets kiota's package-level
// store.BackingStoreFactoryInstance on every call, and every model the SDK
// parses from a response reads it; the scheduler builds a client per run
// while other runs collect. This test only proves something under -race
// (go test -race ./collectors/graph -run NewWhileCollecting); without it,
// it checks that the clients still collect.
func TestNewWhileCollectingIsRaceFree(t *testing.T) {
	// A page of one item: every rule, contact and member is its own
	// response, so parsing runs for the whole collection.
	e := newEnv(t, 1, acme())
	r := e.client(t, acmeTenant, acmeClient, acmeSecret, nil)
	cred := e.tokens.credential(t, acmeTenant, acmeClient, acmeSecret)
	c := ctx(t)

	done := make(chan struct{})
	go func() {
		defer close(done)
		r.c.CollectMessageRules(c, r.p, []string{"support@acme.com"})
		r.c.CollectContacts(c, r.p)
		r.c.CollectGroupMembers(c, r.p, []string{"help@acme.com"})
	}()

	var wg sync.WaitGroup
	built := make([]int, 3)
	for g := range built {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := New(Options{BaseURL: e.graph.URL, Credential: cred, HTTPClient: e.graph.Client()}); err != nil {
					t.Error(err)
					return
				}
				built[g]++
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()

	if errs := r.p.Errors(); len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	g := r.graph(t)
	if n := len(g["messageRules"].(map[string]any)["support@acme.com"].([]any)); n != 5 {
		t.Errorf("rules: %d, want 5", n)
	}
	if n := len(g["contacts"].([]any)); n != 4 {
		t.Errorf("contacts: %d, want 4", n)
	}
	if built[0]+built[1]+built[2] == 0 {
		t.Error("no client was built while collecting")
	}
}
