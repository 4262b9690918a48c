package node

import "example.com/m/internal/agent"

var _ agent.Links
