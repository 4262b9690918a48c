package tests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// The failures that users of floating-IP agents reported
// (../shared/background/field-reports.md), each tried on the real binary.
// The nic vanishing under a running VIP (resource-agents #334) is
// TestNicGoneWhileRunning; a recovered panic is ocf's unit test.

// TestFieldAddressLostIsAnnouncedAgain (kube-vip #173, keepalived #1385):
// a network manager restart or a link flap takes the address away behind
// the agent's back. monitor must say not running, and the next start must
// add the address again and announce it again.
func TestFieldAddressLostIsAnnouncedAgain(t *testing.T) {
	for _, how := range []string{"address deleted", "addresses flushed by a link flap"} {
		t.Run(how, func(t *testing.T) {
			l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
			a, m := l.Host("a"), l.Host("m")
			before := labtest.HostState(t, a)
			r := labtest.Floatip(t, a)
			p := []string{"ip=" + labtest.VIP, "nic=eth0", "cidr_netmask=24"}
			r.Expect(0, "start", append(p, labtest.QuietBurst...)...)
			if how == "address deleted" {
				if err := a.IP("addr", "del", labtest.VIP+"/24", "dev", "eth0"); err != nil {
					t.Fatal(err)
				}
			} else {
				for _, args := range [][]string{{"link", "set", "eth0", "down"}, {"addr", "flush", "dev", "eth0"}, {"link", "set", "eth0", "up"}, {"addr", "add", labtest.HostA.Addr.String(), "brd", "+", "dev", "eth0"}} {
					if err := a.IP(args...); err != nil {
						t.Fatal(err)
					}
				}
			}
			r.Expect(7, "monitor", append(p, "OCF_RESKEY_CRM_meta_interval=10000")...)
			r.Expect(7, "monitor", append(p, "OCF_RESKEY_CRM_meta_interval=0")...)
			c, err := m.Capture(0x0806)
			if err != nil {
				t.Fatal(err)
			}
			r.Expect(0, "start", append(p, "arp_bg=false", "arp_count=2", "arp_interval=50")...)
			var garps int
			for _, f := range lab.DecodeARP(c.Close()) {
				if f.SenderIP.String() == labtest.VIP && f.TargetIP.String() == labtest.VIP && f.SenderHW.String() == a.MAC.String() {
					garps++
				}
			}
			if garps != 4 {
				t.Errorf("M received %d gratuitous ARP frames for %s after the second start, want 4", garps, labtest.VIP)
			}
			r.Expect(0, "monitor", append(p, "OCF_RESKEY_CRM_meta_interval=10000")...)
			r.Expect(0, "stop", p...)
			labtest.CheckNothingLeft(t, a, before, r.Rsctmp)
		})
	}
}

// TestFieldCollisionIsGeneric (resource-agents #1163): another host holds
// the address when start runs with run_arping: start fails with
// OCF_ERR_GENERIC, one exit reason, and takes nothing.
func TestFieldCollisionIsGeneric(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	a, m := l.Host("a"), l.Host("m")
	before := labtest.HostState(t, a)
	if err := m.IP("addr", "add", labtest.VIP+"/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	r := labtest.Floatip(t, a)
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "run_arping=true"}
	res := r.Expect(1, "start", p...)
	if n := len(labtest.ExitReasons(res.Stderr)); n != 1 || !strings.Contains(res.Stderr, m.MAC.String()) {
		t.Errorf("%d exit reasons, want one naming %s:\n%s", n, m.MAC, res.Stderr)
	}
	r.Expect(7, "monitor", p...)
	r.Expect(0, "stop", p...)
	labtest.CheckNothingLeft(t, a, before, r.Rsctmp)
}

// TestFieldStopOnInvalidConfiguration (resource-agents #891): the
// configuration of a running address became invalid; stop must still
// succeed and take the address away, as a failed stop gets the node
// fenced.
func TestFieldStopOnInvalidConfiguration(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	a := l.Host("a")
	before := labtest.HostState(t, a)
	for _, bad := range [][]string{
		{"arp_count=0"},
		{"arp_interval=abc"},
		{"nodad=perhaps"},
		{"arp_sender=evil"},
		{"preferred_lft="},
		{"broadcast=garbage"},
		{"clusterip_hash=bad"},
		{"lvs_ipv6_addrlabel=true"},
	} {
		t.Run(strings.Join(bad, " "), func(t *testing.T) {
			r := labtest.Floatip(t, a)
			p := []string{"ip=" + labtest.VIP, "cidr_netmask=24"}
			r.Expect(0, "start", append(p, labtest.QuietBurst...)...)
			r.Expect(0, "stop", append(p, bad...)...)
			labtest.CheckNothingLeft(t, a, before, r.Rsctmp)
		})
	}
}

// TestFieldMetadataOnlyXML (pcs #38): meta-data prints the XML and nothing
// else on stdout, with debug logging and syslog on, as root and as nobody,
// and the XML is valid.
func TestFieldMetadataOnlyXML(t *testing.T) {
	labtest.NeedRoot(t)
	setpriv := labtest.NeedTool(t, "setpriv")
	xmllint := labtest.NeedTool(t, "xmllint")
	for _, as := range [][]string{nil, {setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"}} {
		var stdout, stderr bytes.Buffer
		argv := append(slices.Clone(as), labtest.Binary, "meta-data")
		c := exec.Command(argv[0], argv[1:]...)
		c.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT=/usr/lib/ocf", "OCF_RESOURCE_INSTANCE=vip",
			"HA_debug=1", "HA_LOGFACILITY=daemon", "HA_LOGFILE=/dev/stderr", "HA_DEBUGLOG=/dev/stderr"}
		c.Stdout, c.Stderr = &stdout, &stderr
		if err := c.Run(); err != nil {
			t.Fatalf("meta-data %v: %v\n%s", as, err, stderr.String())
		}
		// The test binary is built without -X main.version: "dev".
		if want := metadata.WithVersion(metadata.XML, "dev"); !bytes.Equal(stdout.Bytes(), want) {
			t.Errorf("meta-data %v printed %d bytes on stdout, not the %d of the XML:\n%.300s", as, stdout.Len(), len(want), stdout.String())
		}
		f := filepath.Join(t.TempDir(), "md.xml")
		os.WriteFile(f, stdout.Bytes(), 0o644)
		if out, err := exec.Command(xmllint, "--noout", f).CombinedOutput(); err != nil {
			t.Errorf("xmllint: %v\n%s", err, out)
		}
	}
}

// TestFieldValidateWithoutMeta (resource-agents #1826, pcs #814): pcs runs
// validate-all with no meta attribute at all and no HA_RSCTMP; it must
// pass for a configuration that is valid.
func TestFieldValidateWithoutMeta(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA6)
	a := l.Host("a")
	for _, p := range [][]string{
		{"ip=" + labtest.VIP},
		{"ip=" + labtest.VIP, "cidr_netmask=24", "nic=eth0"},
		{"ip=" + labtest.VIP6, "cidr_netmask=64"},
		{"ip=" + labtest.VIP, "arp_count_refresh=2", "run_arping=true", "flush_routes=true"},
	} {
		env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
		for _, kv := range p {
			env = append(env, "OCF_RESKEY_"+kv)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		res, err := a.Run(ctx, env, labtest.Binary, "validate-all")
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != 0 {
			t.Errorf("validate-all %v without meta attributes = %d: %s", p, res.Code, res.Stderr)
		}
	}
}
