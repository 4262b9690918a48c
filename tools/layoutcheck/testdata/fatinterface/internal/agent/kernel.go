package agent

// Kernel is one more than two, by embedding.
type Kernel interface {
	Links
	Close()
}
