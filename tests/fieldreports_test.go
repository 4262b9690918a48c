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
			l := newLab(t, hostA, hostM)
			a, m := l.Host("a"), l.Host("m")
			before := hostState(t, a)
			r := floatip(t, a)
			p := []string{"ip=" + vip, "nic=eth0", "cidr_netmask=24"}
			r.expect(0, "start", append(p, quietBurst...)...)
			if how == "address deleted" {
				if err := a.IP("addr", "del", vip+"/24", "dev", "eth0"); err != nil {
					t.Fatal(err)
				}
			} else {
				for _, args := range [][]string{{"link", "set", "eth0", "down"}, {"addr", "flush", "dev", "eth0"}, {"link", "set", "eth0", "up"}, {"addr", "add", hostA.Addr.String(), "brd", "+", "dev", "eth0"}} {
					if err := a.IP(args...); err != nil {
						t.Fatal(err)
					}
				}
			}
			r.expect(7, "monitor", append(p, "OCF_RESKEY_CRM_meta_interval=10000")...)
			r.expect(7, "monitor", append(p, "OCF_RESKEY_CRM_meta_interval=0")...)
			c, err := m.Capture(0x0806)
			if err != nil {
				t.Fatal(err)
			}
			r.expect(0, "start", append(p, "arp_bg=false", "arp_count=2", "arp_interval=50")...)
			var garps int
			for _, f := range lab.DecodeARP(c.Close()) {
				if f.SenderIP.String() == vip && f.TargetIP.String() == vip && f.SenderHW.String() == a.MAC.String() {
					garps++
				}
			}
			if garps != 4 {
				t.Errorf("M received %d gratuitous ARP frames for %s after the second start, want 4", garps, vip)
			}
			r.expect(0, "monitor", append(p, "OCF_RESKEY_CRM_meta_interval=10000")...)
			r.expect(0, "stop", p...)
			checkNothingLeft(t, a, before, r.rsctmp)
		})
	}
}

// TestFieldCollisionIsGeneric (resource-agents #1163): another host holds
// the address when start runs with run_arping: start fails with
// OCF_ERR_GENERIC, one exit reason, and takes nothing.
func TestFieldCollisionIsGeneric(t *testing.T) {
	l := newLab(t, hostA, hostM)
	a, m := l.Host("a"), l.Host("m")
	before := hostState(t, a)
	if err := m.IP("addr", "add", vip+"/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	r := floatip(t, a)
	p := []string{"ip=" + vip, "cidr_netmask=24", "run_arping=true"}
	res := r.expect(1, "start", p...)
	if n := len(exitReasons(res.Stderr)); n != 1 || !strings.Contains(res.Stderr, m.MAC.String()) {
		t.Errorf("%d exit reasons, want one naming %s:\n%s", n, m.MAC, res.Stderr)
	}
	r.expect(7, "monitor", p...)
	r.expect(0, "stop", p...)
	checkNothingLeft(t, a, before, r.rsctmp)
}

// TestFieldStopOnInvalidConfiguration (resource-agents #891): the
// configuration of a running address became invalid; stop must still
// succeed and take the address away, as a failed stop gets the node
// fenced.
func TestFieldStopOnInvalidConfiguration(t *testing.T) {
	l := newLab(t, hostA)
	a := l.Host("a")
	before := hostState(t, a)
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
			r := floatip(t, a)
			p := []string{"ip=" + vip, "cidr_netmask=24"}
			r.expect(0, "start", append(p, quietBurst...)...)
			r.expect(0, "stop", append(p, bad...)...)
			checkNothingLeft(t, a, before, r.rsctmp)
		})
	}
}

// TestFieldMetadataOnlyXML (pcs #38): meta-data prints the XML and nothing
// else on stdout, with debug logging and syslog on, as root and as nobody,
// and the XML is valid.
func TestFieldMetadataOnlyXML(t *testing.T) {
	needRoot(t)
	setpriv := needTool(t, "setpriv")
	xmllint := needTool(t, "xmllint")
	for _, as := range [][]string{nil, {setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"}} {
		var stdout, stderr bytes.Buffer
		argv := append(slices.Clone(as), binary, "meta-data")
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
	l := newLab(t, hostA6)
	a := l.Host("a")
	for _, p := range [][]string{
		{"ip=" + vip},
		{"ip=" + vip, "cidr_netmask=24", "nic=eth0"},
		{"ip=" + vip6, "cidr_netmask=64"},
		{"ip=" + vip, "arp_count_refresh=2", "run_arping=true", "flush_routes=true"},
	} {
		env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
		for _, kv := range p {
			env = append(env, "OCF_RESKEY_"+kv)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		res, err := a.Run(ctx, env, binary, "validate-all")
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != 0 {
			t.Errorf("validate-all %v without meta attributes = %d: %s", p, res.Code, res.Stderr)
		}
	}
}
