package main

import "example.com/m/internal/agent"

var _ agent.Links

func main() {}
