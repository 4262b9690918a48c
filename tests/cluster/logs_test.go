//go:build linux

package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The lines are Pacemaker 2.1.5's and corosync 3.1.7's, from a run of the
// live test; parsing them needs no root and no cluster.
const pacemakerLog = `Nov 25 07:29:18.388 n1 pacemaker-controld  [29] (do_lrm_rsc_op) 	notice: Requesting local execution of start operation for vip on n1 | transition_key=3:3:0:cd6bf9b7 op_key=vip_start_0
Nov 25 07:29:18.416 n1 pacemaker-execd     [26] (log_execute) 	info: executing - rsc:vip action:start call_id:6
Nov 25 07:29:18.500 n1 pacemaker-execd     [26] (log_op_output) 	info: vip_start_0[90] error output [ IPaddr2(vip)[90]: INFO: Adding 198.18.0.100/24 with broadcast address 198.18.0.255 to device eth0 ]
Nov 25 07:29:18.504 n1 pacemaker-execd     [26] (log_finished) 	info: vip start (call 6, PID 90) exited with status 0 (execution time 87ms after being queued 1ms)
Nov 25 07:29:18.520 n1 pacemaker-execd     [26] (log_execute) 	info: executing - rsc:vip action:monitor call_id:7
Nov 25 07:29:39.096 n1 pacemaker-execd     [26] (log_execute) 	info: executing - rsc:vip action:stop call_id:9
Nov 25 07:29:39.120 n1 pacemaker-execd     [26] (log_execute) 	info: executing - rsc:web action:stop call_id:10
Nov 25 07:29:40.430 n1 pacemaker-execd     [26] (log_finished) 	info: vip stop (call 9, PID 131) exited with status 0 (execution time 1s 334ms)
Nov 25 07:29:41.000 n1 pacemaker-execd     [26] (log_finished) 	info: web stop (call 10, PID 132) exited with status 0 (execution time 20ms)
`

func TestAgentOps(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.Local)
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006 "+logStamp, "2026 "+s, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name  string
		since time.Time
		want  []AgentOp
	}{
		{"all", at("Nov 25 07:00:00.000"), []AgentOp{
			{Node: "n1", Action: "start", Call: 6, Called: at("Nov 25 07:29:18.416"), Returned: at("Nov 25 07:29:18.504"), Exec: 87 * time.Millisecond},
			{Node: "n1", Action: "stop", Call: 9, Called: at("Nov 25 07:29:39.096"), Returned: at("Nov 25 07:29:40.430"), Exec: 1334 * time.Millisecond},
		}},
		// A line stamped in the millisecond of since counts: the stamp
		// is truncated.
		{"since", at("Nov 25 07:29:39.096").Add(400 * time.Microsecond), []AgentOp{
			{Node: "n1", Action: "stop", Call: 9, Called: at("Nov 25 07:29:39.096"), Returned: at("Nov 25 07:29:40.430"), Exec: 1334 * time.Millisecond},
		}},
		{"none", at("Nov 25 07:30:00.000"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := agentOps(strings.NewReader(pacemakerLog), "n1", "vip", tt.since, now)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d ops %+v, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.Node != w.Node || g.Action != w.Action || g.Call != w.Call || !g.Called.Equal(w.Called) ||
					!g.Returned.Equal(w.Returned) || g.Exec != w.Exec || g.Status != w.Status {
					t.Errorf("op %d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestMembershipEvents(t *testing.T) {
	log := `Nov 25 07:29:57.860 [13] n1 corosync notice  [TOTEM ] Token has not been received in 2250 ms 
Nov 25 07:29:58.608 [13] n1 corosync notice  [TOTEM ] A processor failed, forming new configuration: token timed out (3000ms), waiting 3600ms for consensus.
Nov 25 07:30:02.216 [13] n1 corosync notice  [TOTEM ] A new membership (1.d) was formed. Members left: 2
`
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.Local)
	got := membershipEvents(strings.NewReader(log), "n1", now.Add(-time.Hour), now)
	if len(got) != 2 || got[0].Time.Format(logStamp) != "Nov 25 07:29:58.608" || !strings.Contains(got[1].What, "without the peer") {
		t.Errorf("got %+v", got)
	}
}

// A log written late on New Year's Eve, read just after midnight, belongs
// to the year before.
func TestParseStampYear(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 5, 0, time.Local)
	got, ok := parseStamp("Dec 31 23:59:59.250 n1 pacemaker-execd", now)
	if !ok || got.Year() != 2026 {
		t.Errorf("got %v %v, want a time in 2026", got, ok)
	}
}

// Pacemaker 2.1.5's lines of a fencing, from n2's log in a run of the live
// test, then a failed result in the shape 2.1.5 gives one.
const fenceLog = `Dec 02 00:46:39.455 n2 pacemaker-fenced    [24] (update_peer_state_iter) 	notice: Node n1 state is now lost | nodeid=1 previous=member source=crm_update_peer_proc
Dec 02 00:46:39.511 n2 pacemaker-schedulerd[27] (pe_fence_node) 	warning: Cluster node n1 will be fenced: peer is no longer part of the cluster
Dec 02 00:46:39.511 n2 pacemaker-controld  [28] (controld_execute_fence_action) 	notice: Requesting fencing (reboot) of node n1 | action=1 timeout=60000
Dec 02 00:46:39.515 n2 pacemaker-fenced    [24] (initiate_remote_stonith_op) 	notice: Requesting peer fencing (reboot) targeting n1 | id=0b8d7ed5 state=querying base_timeout=60
Dec 02 00:46:39.523 n2 pacemaker-fenced    [24] (log_async_result) 	notice: Operation 'reboot' [319] targeting n1 using fence-lab returned 0 | call 7 from pacemaker-controld.28
Dec 02 00:46:39.527 n2 pacemaker-fenced    [24] (finalize_op) 	notice: Operation 'reboot' targeting n1 by n2 for pacemaker-controld.28@n2: OK (complete) | id=0b8d7ed5
Dec 02 00:46:39.527 n2 pacemaker-controld  [28] (handle_fence_notification) 	notice: Peer n1 was terminated (reboot) by n2 on behalf of pacemaker-controld.28@n2: OK | event=0b8d7ed5-9ef0-47e8-960f-f13f7b5b8d36
Dec 02 00:47:40.000 n2 pacemaker-fenced    [24] (finalize_op) 	notice: Operation 'reboot' targeting n1 by n2 for pacemaker-controld.28@n2: Error occurred (Fence agent did not complete in time) | id=1c9e8f00
Dec 02 00:47:41.000 n2 pacemaker-fenced    [24] (finalize_op) 	notice: Operation 'reboot' targeting n2 by n1 for pacemaker-controld.31@n1: OK (complete) | id=2d0f9011
`

func TestFenceEvents(t *testing.T) {
	now := time.Date(2026, 12, 2, 1, 0, 0, 0, time.Local)
	got := fenceEvents(strings.NewReader(fenceLog), "n2", "n1", now.Add(-time.Hour), now)
	want := []struct {
		stamp      string
		result, ok bool
		what       string
	}{
		{"Dec 02 00:46:39.511", false, false, "n2's scheduler: n1 will be fenced (peer is no longer part of the cluster)"},
		{"Dec 02 00:46:39.511", false, false, "n2's controller requests fencing (reboot) of n1"},
		{"Dec 02 00:46:39.523", false, false, "n2's fencer: the agent of fence-lab (reboot n1) exited 0"},
		{"Dec 02 00:46:39.527", true, true, "n2's fencer: reboot of n1 by n2: OK (complete)"},
		{"Dec 02 00:47:40.000", true, false, "n2's fencer: reboot of n1 by n2: Error occurred (Fence agent did not complete in time)"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Time.Format("Jan 02 15:04:05.000") != w.stamp || g.Result != w.result || g.OK != w.ok || g.What != w.what {
			t.Errorf("event %d: got %s %v %v %q, want %s %v %v %q", i, g.Time.Format("Jan 02 15:04:05.000"), g.Result, g.OK, g.What, w.stamp, w.result, w.ok, w.what)
		}
	}
}

// fence_lab's actions that need no switch, and how it reads stdin.
func TestFenceAction(t *testing.T) {
	var out strings.Builder
	if code, err := fenceAction(map[string]string{"action": "metadata"}, &out); code != fenceOK || err != nil || !strings.Contains(out.String(), `<resource-agent name="fence_lab"`) {
		t.Errorf("metadata: %d %v %q", code, err, out.String())
	}
	if code, _ := fenceAction(map[string]string{"action": "off"}, &out); code != fenceFailed {
		t.Errorf("off without plug: exit %d, want %d", code, fenceFailed)
	}
	if code, _ := fenceAction(map[string]string{"action": "off", "port": "n1"}, &out); code != fenceFailed {
		t.Errorf("off without socket: exit %d, want %d", code, fenceFailed)
	}
	if code, _ := fenceAction(map[string]string{"action": "dance"}, &out); code != fenceFailed {
		t.Errorf("an unknown action: exit %d, want %d", code, fenceFailed)
	}
	params := map[string]string{}
	readFenceParams(strings.NewReader("# a comment\noption=status\n\nport=n2\nnodename=n1\n"), params)
	if params["action"] != "status" || params["port"] != "n2" || params["nodename"] != "n1" {
		t.Errorf("readFenceParams: %v", params)
	}
}

// Pacemaker 3.0.0's lines of the same fencing (make cluster-test
// STACK=debian13): its controller says "targeting node" where 2.1.5 said
// "of node", and its fencer's result reads "OK (Done)".
const fenceLog3 = `Dec 07 17:40:02.118 n1 pacemaker-schedulerd[41] (pe_fence_node) 	warning: Cluster node n2 will be fenced: peer is no longer part of the cluster
Dec 07 17:40:02.122 n1 pacemaker-controld  [42] (controld_execute_fence_action) 	notice: Requesting fencing (reboot) targeting node n2 | action=1 timeout=60000
Dec 07 17:40:02.190 n1 pacemaker-fenced    [38] (log_async_result) 	notice: Operation 'reboot' [412] targeting n2 using fence-lab returned 0 | call 7 from pacemaker-controld.42
Dec 07 17:40:02.222 n1 pacemaker-fenced    [38] (finalize_op) 	notice: Operation 'reboot' targeting n2 by n1 for pacemaker-controld.42@n1: OK (Done) | id=5e0a1c44
`

// TestFenceEvents3 checks that the timeline of a fencing under Pacemaker 3
// has every step that it has under 2.1.5: the controller's request too.
func TestFenceEvents3(t *testing.T) {
	now := time.Date(2026, 12, 7, 18, 0, 0, 0, time.Local)
	var got []string
	for _, e := range fenceEvents(strings.NewReader(fenceLog3), "n1", "n2", now.Add(-time.Hour), now) {
		got = append(got, fmt.Sprintf("%s %v %v %s", e.Time.Format("15:04:05.000"), e.Result, e.OK, e.What))
	}
	want := []string{
		"17:40:02.118 false false n1's scheduler: n2 will be fenced (peer is no longer part of the cluster)",
		"17:40:02.122 false false n1's controller requests fencing (reboot) of n2",
		"17:40:02.190 false false n1's fencer: the agent of fence-lab (reboot n2) exited 0",
		"17:40:02.222 true true n1's fencer: reboot of n2 by n1: OK (Done)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Pacemaker 3's fencing events (-want +got):\n%s", diff)
	}
}
