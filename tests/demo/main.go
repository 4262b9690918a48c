//go:build linux

// Command demo runs floatip's failover scenario live and prints its
// timeline: make demo (or make demo AGENT=heartbeat for IPaddr2).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/floatip/floatip/tests/failover"
)

func main() {
	binary := flag.String("binary", "bin/floatip", "the floatip binary")
	agentName := flag.String("agent", "floatip", "floatip or heartbeat")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "demo: needs root, to create network namespaces")
		os.Exit(1)
	}
	agent := failover.Agent{Name: "floatip", Path: *binary}
	switch *agentName {
	case "floatip":
	case "heartbeat":
		agent = failover.Heartbeat
	default:
		fmt.Fprintf(os.Stderr, "demo: unknown agent %q: floatip or heartbeat\n", *agentName)
		os.Exit(2)
	}
	// An interrupt ends the current step; Run still removes its lab.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Printf("Hosts A (%s) and B (%s) share the VIP %s; client M (%s) pings it every %v.\n",
		failover.HostA.Addr.Addr(), failover.HostB.Addr.Addr(), failover.VIP, failover.HostM.Addr.Addr(), failover.ProbeInterval)
	fmt.Println("Each scenario runs in network namespaces of its own, removed at its end.")
	for _, kind := range []failover.Kind{failover.Graceful, failover.HardFailure} {
		tl, err := failover.Run(ctx, agent, kind)
		if err != nil {
			fmt.Fprintf(os.Stderr, "demo: %v: %v\n", kind, err)
			os.Exit(1)
		}
		tl.Print(os.Stdout)
	}
}
