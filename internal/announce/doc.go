// Package announce tells the link where a floating address lives now: a
// burst of gratuitous ARP for IPv4 and, once a move is done, the detached
// background sender that finishes the burst after start has returned.
//
// Frames are built by pure functions and written to an injected
// net.PacketConn, so everything but the socket is tested without root.
package announce
