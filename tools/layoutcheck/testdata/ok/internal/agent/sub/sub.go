package sub

import "example.com/m/internal/agent"

var _ agent.Links
