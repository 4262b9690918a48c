package node

// Open opens.
func Open() int { return 1 }
