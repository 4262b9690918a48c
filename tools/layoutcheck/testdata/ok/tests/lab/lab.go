package lab

import "example.com/m/internal/agent"

var _ agent.Links

func f() {
	a := 1
	a++
	a++
	a++
	_ = a
}
