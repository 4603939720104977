package graph

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// stickyCredential remembers a sign-in the token endpoint refused (a wrong
// secret, an unknown app or tenant): every later request would be refused
// the same way, and repeating a bad secret to Entra ID for each mailbox
// only adds failed sign-ins to the tenant's logs. Transient failures
// (network, 5xx, throttling) are not remembered.
type stickyCredential struct {
	cred azcore.TokenCredential

	mu      sync.Mutex
	refused error
}

func (s *stickyCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	s.mu.Lock()
	refused := s.refused
	s.mu.Unlock()
	if refused != nil {
		return azcore.AccessToken{}, refused
	}
	tok, err := s.cred.GetToken(ctx, opts)
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		switch afe.RawResponse.StatusCode {
		case http.StatusBadRequest, http.StatusUnauthorized:
			s.mu.Lock()
			s.refused = err
			s.mu.Unlock()
		}
	}
	return tok, err
}
