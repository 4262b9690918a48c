package node

func helper() {
	a := 1
	a++
	a++
	a++
	_ = a
}
