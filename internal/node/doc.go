// Package node turns floatip's kernel packages into what the agent asks
// for: a network namespace's addresses, links and routes (netif), the
// announcers and probes on its links (announce, probe), and the detached
// background sender. It is the one place where the agent's interfaces meet
// the kernel, so cmd/floatip imports nothing of the kernel itself, and
// it is tested inside network namespaces.
package node
