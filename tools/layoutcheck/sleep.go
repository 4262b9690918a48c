package main

import (
	"fmt"
	"go/ast"
	"go/token"
	"strings"
)

// sleepMarker marks a time.Sleep that is no wait for something to
// happen (a stand-in for a hung action, a fault injected at a point in
// time), on its line or the line before, followed by the reason.
const sleepMarker = "//layoutcheck:sleep"

// sleepPending are the trees whose sleeps are still to be replaced; the
// check skips them until they are.
var sleepPending = []string{"tests/cluster"}

// testCode says whether the file at the slash-separated rel is test
// code, whose sleeps the sleep rule checks: a _test.go file, or a file
// under tests/ but those of sleepPending.
func testCode(rel string) bool {
	for _, p := range sleepPending {
		if under(rel, p) {
			return false
		}
	}
	return strings.HasSuffix(rel, "_test.go") || under(rel, "tests")
}

// sleeps returns the breaches of the sleep rule in f: a test that sleeps
// and then asserts passes or fails by the machine's speed, so a sleep
// must be the pause of a polling loop, one that ends on a condition (a
// for with a condition, or a loop whose body breaks or returns), or say
// with sleepMarker why it is no wait at all.
func sleeps(fset *token.FileSet, root string, f *ast.File) []string {
	marked := map[int]string{}
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if rest, ok := strings.CutPrefix(c.Text, sleepMarker); ok && (rest == "" || rest[0] == ' ') {
				marked[fset.Position(c.Pos()).Line] = strings.TrimSpace(rest)
			}
		}
	}
	var out []string
	var stack []ast.Node
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		if !isSleep(n) {
			return true
		}
		line := fset.Position(n.Pos()).Line
		for _, l := range []int{line, line - 1} {
			if reason, ok := marked[l]; ok {
				if reason == "" {
					out = append(out, fmt.Sprintf("%s: %s without a reason: say why this sleep waits for nothing", pos(fset, root, n.Pos()), sleepMarker))
				}
				return true
			}
		}
		if !inPollingLoop(stack) {
			out = append(out, fmt.Sprintf("%s: time.Sleep outside a polling loop: wait on an event, or poll a condition with a deadline (%s <reason> if it waits for nothing)", pos(fset, root, n.Pos()), sleepMarker))
		}
		return true
	})
	return out
}

// isSleep says whether n is a call of time.Sleep.
func isSleep(n ast.Node) bool {
	call, ok := n.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Sleep" {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == "time"
}

// inPollingLoop says whether the innermost loop around the top of stack,
// in the same function, ends on a condition: a for with a condition, or
// a loop whose body has a break, a goto or a return of its own.
func inPollingLoop(stack []ast.Node) bool {
	for i := len(stack) - 1; i >= 0; i-- {
		switch s := stack[i].(type) {
		case *ast.FuncLit, *ast.FuncDecl:
			return false
		case *ast.ForStmt:
			return s.Cond != nil || exits(s.Body)
		case *ast.RangeStmt:
			return exits(s.Body)
		}
	}
	return false
}

// exits says whether body has a break, goto or return outside the
// function literals it holds.
func exits(body *ast.BlockStmt) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch s := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			found = true
		case *ast.BranchStmt:
			if s.Tok == token.BREAK || s.Tok == token.GOTO {
				found = true
			}
		}
		return !found
	})
	return found
}
