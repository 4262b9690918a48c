#!/bin/sh
# debian13.sh ROOT builds ROOT, a Debian 13 (trixie) root with the cluster
# stack that make cluster-test STACK=debian13 runs its nodes on: Pacemaker 3,
# Corosync, pcs, crmsh, the resource and fence agents. The root is built
# beside ROOT and moved into place whole, and its stamp is written last, so a
# root with its stamp is complete; a second run checks the stamp and the
# binaries and returns. MIRROR overrides the Debian mirror.
set -eu

root=${1:?usage: debian13.sh ROOT}
mirror=${MIRROR:-http://deb.debian.org/debian}
stamp=$root/.floatip-stack

# The nodes need the stack, ip (iproute2) for the agents, and the tools of
# util-linux; ocf-tester needs xmllint (libxml2-utils, only recommended). python3-cffi-backend is named so that apt can resolve pcs's
# python3-cffi-backend-api-* dependency, which no package of that name
# provides. The lab fences with an agent of its own: of the fence agents
# the root has the common part and fence_dummy only, since Debian 13's
# fence-agents pulls in all of them, some 75 packages and their Python
# libraries, a root five times as large and seven times as slow to build.
packages="pacemaker corosync pcs crmsh pacemaker-cli-utils resource-agents fence-agents-dummy iproute2 util-linux procps libxml2-utils python3-cffi-backend"

complete() {
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$packages" ] || return 1
	for f in usr/sbin/pacemakerd usr/sbin/corosync usr/sbin/pcs usr/sbin/crm \
		usr/sbin/crm_mon usr/sbin/cibadmin usr/lib/ocf/resource.d/heartbeat/IPaddr2 \
		usr/sbin/fence_dummy usr/sbin/ip; do
		[ -e "$root/$f" ] || { echo "$root: $f missing" >&2; return 1; }
	done
}

if complete; then
	echo "$root: Debian 13 stack up to date"
	exit 0
fi

start=$(date +%s)
tmp=$root.tmp
rm -rf "$tmp"
mkdir -p "$(dirname "$root")"
debootstrap --variant=minbase trixie "$tmp" "$mirror"

# No service starts inside the root: invoke-rc.d and deb-systemd-invoke ask
# policy-rc.d, and 101 says no.
printf '#!/bin/sh\nexit 101\n' > "$tmp/usr/sbin/policy-rc.d"
chmod 0755 "$tmp/usr/sbin/policy-rc.d"

# in_root runs a command in the root, with its own /proc that goes away
# with the namespace, so that nothing stays mounted on the machine.
in_root() {
	unshare --mount --pid --fork --mount-proc="$tmp/proc" \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
		chroot "$tmp" "$@"
}
in_root apt-get update
in_root apt-get install -y --no-install-recommends $packages || {
	in_root apt-get install -y --no-install-recommends python3-cffi-backend
	in_root apt-get -f install -y --no-install-recommends
}
# A package left unpacked but not configured (pcs, when apt could not
# resolve its dependencies) would pass the binaries' check.
audit=$(in_root dpkg --audit)
if [ -n "$audit" ]; then
	echo "$tmp: packages not configured:" >&2
	echo "$audit" >&2
	exit 1
fi
in_root apt-get clean
rm -rf "$root"
mv "$tmp" "$root"
echo "$packages" > "$stamp"
complete
echo "$root: Debian 13 stack built in $(($(date +%s) - start)) s"
