package packaging

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
	"github.com/google/go-cmp/cmp"
)

// TestSupportMatrix fails when docs/admin/support.md, or the README's
// table of the stacks, is not what make support-matrix makes on this
// machine: the versions in this machine's dpkg database and the Debian 13
// root's, and the suites .ci/run runs on each. A stack upgraded, or a
// suite added to CI, fails it until make support-matrix is run and the
// README's table copied from the page.
func TestSupportMatrix(t *testing.T) {
	labtest.NeedTool(t, "dpkg-query")
	root := labtest.Debian13Root()
	if _, err := os.Stat(filepath.Join(root, labtest.StackStamp)); err != nil {
		if labtest.RequiredStack("debian13") {
			t.Fatalf("no Debian 13 stack at %s (%v), and FLOATIP_REQUIRE_STACKS=debian13 forbids skipping: run make stack-debian13", root, err)
		}
		t.Skipf("no Debian 13 stack at %s (%v): make stack-debian13 builds it", root, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := lab.RunHere(ctx, os.Environ(), "go", "run", "../../tools/supportmatrix", "-ci", "../../.ci/run", "-root", "debian13="+root)
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 0 {
		t.Fatalf("supportmatrix: exit %d\n%s", res.Code, res.Stderr)
	}
	page, err := os.ReadFile("../../docs/admin/support.md")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(strings.Split(res.Stdout, "\n"), strings.Split(string(page), "\n")); d != "" {
		t.Errorf("docs/admin/support.md is not what make support-matrix makes here (-generated +committed):\n%s", d)
	}
	table := firstTable(res.Stdout)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if table == "" || !strings.Contains(string(readme), table) {
		t.Errorf("README.md does not hold the support matrix's table:\n%s", table)
	}
}

// firstTable is the first Markdown table of page, its lines joined.
func firstTable(page string) string {
	var rows []string
	for _, l := range strings.Split(page, "\n") {
		if strings.HasPrefix(l, "|") {
			rows = append(rows, l)
		} else if len(rows) > 0 {
			break
		}
	}
	return strings.Join(rows, "\n")
}
