package node

import "github.com/floatip/floatip/internal/clusterip"

// The shared address of a clone (clusterip), programmed in the
// namespace: clusterip acts on the calling thread's namespace, so each
// call runs inside the handle's.

// AddBucket is clusterip.AddBucket in the namespace.
func (n *Namespace) AddBucket(s clusterip.Spec, b int) error {
	return n.Do(func() error { return clusterip.AddBucket(s, b) })
}

// RemoveBucket is clusterip.RemoveBucket in the namespace.
func (n *Namespace) RemoveBucket(s clusterip.Spec, b int) (clusterip.State, error) {
	var st clusterip.State
	err := n.Do(func() (err error) {
		st, err = clusterip.RemoveBucket(s, b)
		return err
	})
	return st, err
}

// RemoveShared is clusterip.Remove in the namespace.
func (n *Namespace) RemoveShared(s clusterip.Spec) error {
	return n.Do(func() error { return clusterip.Remove(s) })
}

// InspectShared is clusterip.Inspect in the namespace.
func (n *Namespace) InspectShared(s clusterip.Spec) (clusterip.State, error) {
	var st clusterip.State
	err := n.Do(func() (err error) {
		st, err = clusterip.Inspect(s)
		return err
	})
	return st, err
}

// CheckShared is clusterip.Check in the namespace.
func (n *Namespace) CheckShared(s clusterip.Spec) error {
	return n.Do(func() error { return clusterip.Check(s) })
}
