package netif

import (
	"errors"
	"strings"
	"testing"
)

// TestOpenNamespaceNameTooLong: a name longer than a file name can be
// names no namespace, as a missing one does: the agent's stop must not
// fail (and get the node fenced) over a namespace that cannot exist.
func TestOpenNamespaceNameTooLong(t *testing.T) {
	h, err := Open(strings.Repeat("x", 300))
	if err == nil {
		h.Close()
		t.Fatal("Open of a 300-character namespace name succeeded")
	}
	if !errors.Is(err, ErrNoNamespace) {
		t.Errorf("Open = %v, want %v", err, ErrNoNamespace)
	}
}
