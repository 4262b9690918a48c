// Package announce tells the link where a floating address lives now: a
// burst of gratuitous ARP for IPv4, of unsolicited Neighbor Advertisements
// for IPv6. The detached process that finishes a burst after start has
// returned is package sender's.
//
// Frames are built by pure functions and written to an injected
// net.PacketConn, so everything but the socket is tested without root.
package announce
