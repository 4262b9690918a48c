package main

func long() {
	a := 1
	a++
	a++
	a++
	_ = a
}
