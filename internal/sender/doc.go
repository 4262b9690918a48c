// Package sender keeps the lifecycle of the detached background sender
// that finishes a burst of announcements after start has returned: it
// spawns the process fully detached from the agent's pipes, and records,
// finds and stops it through a pid file that also holds the process's
// start time, so that a stale file never gets another process killed.
// One sender serves the bursts of every start in its network namespace
// while it runs (share.go): a wave of starts costs a process or two, not
// one each, and a stop ends its address's burst alone.
package sender
