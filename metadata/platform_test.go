package metadata

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlatformDefaults(t *testing.T) {
	off := map[string]string{"check_link_status": "false"}
	for _, tc := range []struct {
		name, osRelease string
		want            map[string]string
	}{
		{"Debian 12", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n", map[string]string{}},
		{"RHEL 9.4", "ID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.4\"\n", off},
		{"RHEL 10.0", "ID=\"rhel\"\nVERSION_ID=\"10.0\"\n", off},
		{"RHEL 10.1", "ID=\"rhel\"\nVERSION_ID=\"10.1\"\n", map[string]string{}},
		{"RHEL 10", "ID=rhel\nVERSION_ID=10\n", off},
		{"Rocky 8", "ID=\"rocky\"\nVERSION_ID=\"8.10\"\n", off},
		{"AlmaLinux 10.1", "ID=\"almalinux\"\nVERSION_ID=\"10.1\"\n", map[string]string{}},
		{"Fedora 41", "ID=fedora\nVERSION_ID=41\n", map[string]string{}},
		{"Oracle Linux 9", "ID=\"ol\"\nVERSION_ID=\"9.3\"\n", off},
		{"CentOS Stream 9", "ID=\"centos\"\nVERSION_ID=\"9\"\n", off},
		{"SLES 16", "ID=\"sles\"\nVERSION_ID=\"16.0\"\n", map[string]string{}},
		{"Ubuntu 24.04", "ID=ubuntu\nVERSION_ID=\"24.04\"\n", map[string]string{}},
		{"RHEL without a version", "ID=rhel\n", map[string]string{}},
		{"no os-release", "", map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, PlatformDefaults([]byte(tc.osRelease))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	doc := WithDefaults(XML, map[string]string{"check_link_status": "false"})
	a, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := generated().Defaults()
	want["check_link_status"] = "false"
	if diff := cmp.Diff(want, a.Defaults()); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if got := WithDefaults(XML, map[string]string{}); string(got) != string(XML) {
		t.Error("no override changed the document")
	}
}
