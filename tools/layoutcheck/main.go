// Command layoutcheck fails when the tree breaks a rule of its layout
// (docs/dev/layout.md), so that the rules hold by a check, not by memory:
//
//   - no package under internal/ but the agent's own imports internal/agent:
//     the kernel's side returns its own types, and cmd/floatip wires them
//     into the agent;
//   - no interface declared in internal/agent has more than 8 methods: a
//     consumer asks for what it needs, and a fake implements little;
//   - no product file has more than 450 lines, and no function more than
//     80. Product is every .go file but the tests (_test.go, tests/), the
//     examples, the tools and the generated files ("Code generated ...
//     DO NOT EDIT."), whose size their source decides;
//   - no test sleeps and then asserts: a time.Sleep in a _test.go file or
//     under tests/ is the pause of a polling loop, one that ends on a
//     condition, or carries "//layoutcheck:sleep <reason>" on its line
//     or the line before, which says why it waits for nothing.
//
// make lint runs it from the module's root:
//
//	go run ./tools/layoutcheck
//
// It prints one line per breach, file:line first, and exits 1 when there
// is one.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Limits are the sizes the rules allow.
type Limits struct {
	// Methods is the most methods an interface of the agent may have.
	Methods int
	// FileLines and FuncLines are the most lines of a product file and
	// of a function in one.
	FileLines, FuncLines int
}

// Default are the project's limits.
var Default = Limits{Methods: 8, FileLines: 450, FuncLines: 80}

func main() {
	root := flag.String("root", ".", "the module's root directory")
	flag.Parse()
	os.Exit(run(*root, Default, os.Stdout, os.Stderr))
}

// run checks the module at root and reports each breach on stdout; it
// returns the exit code.
func run(root string, lim Limits, stdout, stderr io.Writer) int {
	breaches, err := Check(root, lim)
	if err != nil {
		fmt.Fprintf(stderr, "layoutcheck: %v\n", err)
		return 2
	}
	for _, b := range breaches {
		fmt.Fprintln(stdout, b)
	}
	if len(breaches) > 0 {
		fmt.Fprintf(stderr, "layoutcheck: %d breach(es) of docs/dev/layout.md's rules\n", len(breaches))
		return 1
	}
	return 0
}

// Check returns the breaches of the rules in the module at root, sorted.
func Check(root string, lim Limits) ([]string, error) {
	mod, err := modulePath(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	agentPkg := mod + "/internal/agent"
	fset := token.NewFileSet()
	var out []string
	// interfaces are the agent's interfaces by name, for counting the
	// methods of those it embeds in each other.
	interfaces := map[string]*ast.InterfaceType{}
	var agentIfaces []*ast.TypeSpec
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (d.Name() == "testdata" || d.Name() == "vendor" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir := path.Dir(rel)
		if under(dir, "internal") && !under(dir, "internal/agent") {
			for _, im := range f.Imports {
				if ip, _ := strconv.Unquote(im.Path.Value); ip == agentPkg || strings.HasPrefix(ip, agentPkg+"/") {
					out = append(out, fmt.Sprintf("%s: imports %s: the kernel's side returns its own types, and cmd/floatip wires them into the agent", pos(fset, root, im.Pos()), ip))
				}
			}
		}
		if dir == "internal/agent" && !strings.HasSuffix(rel, "_test.go") {
			for _, ts := range interfaceSpecs(f) {
				interfaces[ts.Name.Name] = ts.Type.(*ast.InterfaceType)
				agentIfaces = append(agentIfaces, ts)
			}
		}
		if product(rel) && !ast.IsGenerated(f) {
			out = append(out, sizes(fset, root, f, lim)...)
		}
		if testCode(rel) {
			out = append(out, sleeps(fset, root, f)...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, ts := range agentIfaces {
		if n := methods(ts.Type.(*ast.InterfaceType), interfaces, map[string]bool{}); n > lim.Methods {
			out = append(out, fmt.Sprintf("%s: interface %s has %d methods, more than %d: split it by job, each consumer asking for what it needs", pos(fset, root, ts.Pos()), ts.Name.Name, n, lim.Methods))
		}
	}
	slices.Sort(out)
	return out, nil
}

// under says whether the slash-separated dir is top or below it.
func under(dir, top string) bool {
	return dir == top || strings.HasPrefix(dir, top+"/")
}

// product says whether the file at the slash-separated rel is product
// code: not a test, and not under tests/, examples/ or tools/.
func product(rel string) bool {
	if strings.HasSuffix(rel, "_test.go") {
		return false
	}
	top, _, _ := strings.Cut(rel, "/")
	return top != "tests" && top != "examples" && top != "tools"
}

// sizes returns the breaches of the file and function sizes in f.
func sizes(fset *token.FileSet, root string, f *ast.File, lim Limits) []string {
	var out []string
	tf := fset.File(f.Pos())
	if n := tf.LineCount(); n > lim.FileLines {
		out = append(out, fmt.Sprintf("%s: %d lines, more than %d: split the file by concern", pos(fset, root, f.Pos()), n, lim.FileLines))
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		n := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1
		if n > lim.FuncLines {
			out = append(out, fmt.Sprintf("%s: func %s has %d lines, more than %d: split it", pos(fset, root, fd.Pos()), fd.Name.Name, n, lim.FuncLines))
		}
	}
	return out
}

// interfaceSpecs returns the interface types f declares at top level.
func interfaceSpecs(f *ast.File) []*ast.TypeSpec {
	var out []*ast.TypeSpec
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, s := range gd.Specs {
			if ts, ok := s.(*ast.TypeSpec); ok {
				if _, ok := ts.Type.(*ast.InterfaceType); ok {
					out = append(out, ts)
				}
			}
		}
	}
	return out
}

// methods counts the methods of it, with those of the interfaces it
// embeds: one of the same package by its own count, one of another
// package as one method (layoutcheck reads no other package; the agent
// embeds at most announce.Announcer's two), seen guarding against a cycle.
func methods(it *ast.InterfaceType, byName map[string]*ast.InterfaceType, seen map[string]bool) int {
	n := 0
	for _, m := range it.Methods.List {
		switch t := m.Type.(type) {
		case *ast.FuncType:
			n += len(m.Names)
		case *ast.Ident:
			if e, ok := byName[t.Name]; ok && !seen[t.Name] {
				seen[t.Name] = true
				n += methods(e, byName, seen)
			}
		default:
			n++
		}
	}
	return n
}

// pos names p as file:line relative to root.
func pos(fset *token.FileSet, root string, p token.Pos) string {
	ps := fset.Position(p)
	rel, err := filepath.Rel(root, ps.Filename)
	if err != nil {
		rel = ps.Filename
	}
	return fmt.Sprintf("%s:%d", filepath.ToSlash(rel), ps.Line)
}

// modulePath reads the module's path from its go.mod.
func modulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", fmt.Errorf("read the module's path: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(p), `"`), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", gomod, err)
	}
	return "", fmt.Errorf("read the module's path: %s names none", gomod)
}
