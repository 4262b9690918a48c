package tests

import (
	"github.com/floatip/floatip/tests/lab"
)

// The admins' tools run from each cluster stack (labtest.EachStack).

// isPacemaker3 tells the stacks apart where their tools differ.
func isPacemaker3(s *lab.Stack) bool { return s.Name == "debian13" }
