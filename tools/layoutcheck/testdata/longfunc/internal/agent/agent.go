package agent

// Links is small.
type Links interface {
	Link(name string) (int, error)
	SetUp(index int) error
}
