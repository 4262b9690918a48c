package main

func main() {
	a := 1
	a++
	a++
	a++
	_ = a
}
