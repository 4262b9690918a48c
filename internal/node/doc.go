// Package node turns floatip's kernel packages into what the agent asks
// for: a network namespace's addresses, links and routes (netif), the
// announcers and probes on its links (announce, probe), and the detached
// background sender. It returns its own concrete types and imports
// nothing of the agent: cmd/floatip hands a Namespace's parts to the
// agent's small interfaces, so cmd/floatip imports nothing of the kernel
// itself. It is tested inside network namespaces.
package node
