// Package sender keeps the lifecycle of the detached background sender
// that finishes a burst of announcements after start has returned: it
// spawns the process fully detached from the agent's pipes, and records,
// finds and stops it through a pid file that also holds the process's
// start time, so that a stale file never gets another process killed.
package sender
