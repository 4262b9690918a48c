//go:build linux

// Command demo runs floatip's failover scenario live, prints its
// timeline and draws it as an SVG picture: make demo (or make demo
// AGENT=heartbeat for IPaddr2).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/floatip/floatip/tests/failover"
)

func main() {
	binary := flag.String("binary", "bin/floatip", "the floatip binary")
	agentName := flag.String("agent", "floatip", "floatip or heartbeat")
	svg := flag.String("svg", "", "where to draw the timeline (default failover-timeline-<agent>.svg beside the binary)")
	flag.Parse()
	if *svg == "" {
		*svg = filepath.Join(filepath.Dir(*binary), "failover-timeline-"+*agentName+".svg")
	}
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
	var tls []*failover.Timeline
	for _, kind := range []failover.Kind{failover.Graceful, failover.HardFailure} {
		tl, err := failover.Run(ctx, agent, kind)
		if err != nil {
			fmt.Fprintf(os.Stderr, "demo: %v: %v\n", kind, err)
			os.Exit(1)
		}
		tl.Print(os.Stdout)
		tls = append(tls, tl)
	}
	if err := draw(*svg, tls); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("\nThe timelines are drawn in %s.\n", *svg)
}

// draw writes the timelines' picture to path.
func draw(path string, tls []*failover.Timeline) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("draw the timeline: %w", err)
	}
	if err := failover.WriteSVG(f, tls); err != nil {
		f.Close()
		return fmt.Errorf("draw the timeline: %w", err)
	}
	return f.Close()
}
