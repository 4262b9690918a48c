//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestStackByName checks that -stack debian13 refuses a root whose build
// did not finish (no stamp), which would otherwise boot nodes that fail
// far from the cause, and takes it once the stamp is there.
func TestStackByName(t *testing.T) {
	root := t.TempDir()
	if _, err := stackByName("debian13", root); err == nil || !strings.Contains(err.Error(), "make stack-debian13") {
		t.Fatalf("a root without its stamp: got %v, want an error that names make stack-debian13", err)
	}
	if err := os.WriteFile(filepath.Join(root, ".floatip-stack"), []byte("pacemaker\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := stackByName("debian13", root)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"chroot", root, "pcs", "--version"}, s.Command("pcs", "--version")); diff != "" {
		t.Errorf("debian13's command (-want +got):\n%s", diff)
	}
	own, err := stackByName("debian12", root)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"pcs", "--version"}, own.Command("pcs", "--version")); diff != "" {
		t.Errorf("debian12's command (-want +got):\n%s", diff)
	}
	if _, err := stackByName("debian11", ""); err == nil {
		t.Error("-stack debian11: no error")
	}
}

// TestStackIDs checks that the ids come from the stack's own passwd and
// group: a root's hacluster may have another uid than the machine's, and
// the node's directories must be owned by the root's.
func TestStackIDs(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"passwd": "root:x:0:0:root:/root:/bin/bash\nhaclusterx:x:5:5::/:/bin/false\nhacluster:x:101:104::/var/lib/pacemaker:/usr/sbin/nologin\n",
		"group":  "root:x:0:\nhaclient:x:104:\n",
	} {
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := Stack{Name: "debian13", Root: root}
	ids, err := s.IDs("hacluster", "haclient")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([2]int{101, 104}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if _, err := s.IDs("nobody", "haclient"); err == nil {
		t.Error("a user the root lacks: no error")
	}
}
