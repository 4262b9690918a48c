// Package ocf is a small library for writing Open Cluster Framework resource
// agents in Go: the exit codes, the environment Pacemaker passes
// (OCF_RESKEY_*, meta attributes, probe and depth), logging in the
// resource-agents line format with ocf-exit-reason lines, and an action
// dispatcher that honours the operation timeout and never lets a panic
// escape as an exit code Pacemaker would misread.
//
// It knows nothing about IP addresses; any agent can use it.
package ocf
