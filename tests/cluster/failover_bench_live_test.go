//go:build linux

package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/floatip/floatip/internal/needroot"
	"github.com/floatip/floatip/tests/lab"
)

// fbFakeSetup is a setup whose move leaves the VIP on the old holder
// too, and whose return to rest takes it off again, as a Pacemaker
// cleanup's probes and recovery of a multiple-active resource do.
type fbFakeSetup struct {
	b      *fbBench
	holder *fbNode
}

func (f *fbFakeSetup) Name() string                        { return "fake" }
func (f *fbFakeSetup) Up(context.Context, io.Writer) error { return nil }
func (f *fbFakeSetup) Kill(context.Context, *fbNode) error { return nil }
func (f *fbFakeSetup) Down() error                         { return nil }

func (f *fbFakeSetup) Check(context.Context, string, *fbNode, time.Time) (string, error) {
	return "", nil
}

func (f *fbFakeSetup) Holder(context.Context) (*fbNode, error) {
	return f.holder, dropVIP(f.b.other(f.holder).Host)
}

// Move puts the VIP on to as well, and points the client's entry at it,
// as the new holder's announcement would.
func (f *fbFakeSetup) Move(_ context.Context, from, to *fbNode) (func() error, error) {
	f.holder = to
	err := to.Host.IP("addr", "add", VIP.String()+"/24", "dev", to.Host.Dev)
	if err == nil {
		err = f.b.client.IP("neigh", "replace", VIP.String(), "lladdr", to.Host.MAC.String(), "dev", f.b.client.Dev, "nud", "reachable")
	}
	return nil, err
}

// TestFBTwoHoldersAtTheEnd: a fault that ends with the VIP on both nodes
// counts as two holders, even when the setup's return to rest removes
// one of them before the bench looks again.
func TestFBTwoHoldersAtTheEnd(t *testing.T) {
	needroot.Check(t)
	l, err := lab.New(specs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	nodes := []*fbNode{{"n1", l.Host("n1")}, {"n2", l.Host("n2")}}
	b := &fbBench{lab: l, client: l.Host("m"), nodes: nodes}
	if err := nodes[0].Host.IP("addr", "add", VIP.String()+"/24", "dev", nodes[0].Host.Dev); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o, two, err := b.fault(ctx, io.Discard, &fbFakeSetup{b: b, holder: nodes[0]}, fbMove, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Recovered || o.New != nodes[1].Host.MAC.String() {
		t.Fatalf("the move did not reach n2: %+v", o)
	}
	if !two {
		t.Errorf("fault: two holders %v, want true: both nodes held the VIP when the move ended", two)
	}
}
