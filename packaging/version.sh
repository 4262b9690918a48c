#!/bin/sh
# version.sh prints floatip's version, the one string from which the
# binary's `floatip version`, the packages' versions and the tarball's name
# are all made. The Makefile calls it once, for VERSION.
#
#   packaging/version.sh          the version of this tree, without the tag's v
#   packaging/version.sh deb V    V as a Debian version (also rpm's Version)
#   packaging/version.sh date     the time of the source (SOURCE_DATE_EPOCH):
#                                 HEAD's commit time, or the VERSION file's
#                                 time in a tarball
#
# Where the version comes from, first match wins:
#
#  1. git, when this directory is the top of a git work tree:
#     `git describe --tags --match 'v[0-9]*'`, so 0.9.0 on the tag v0.9.0
#     and 0.9.0-3-gabc1234 three commits after it.
#  2. git without a reachable tag (CI may clone without tags): the newest
#     released version in CHANGELOG.md, R, as R-N-gHASH, the form that
#     git describe gives. N counts the commits since the one that added R's
#     heading to CHANGELOG.md, the release commit that the tag marks, so
#     the same commit gets the same version with tags and without. When
#     that commit is not in the history (a shallow clone, or R not
#     committed yet), N counts every commit reachable from HEAD. Such a
#     version sorts after the release R, and before the next release, like
#     a build after the tag: it is a build of R's successor, not of R.
#  3. no git: the file VERSION at the top, which `make release` writes into
#     the source tarball.
#  4. none of these (a copy of the tree without .git or VERSION): R+unknown.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd -P)

# released prints the newest released version in CHANGELOG.md: the first
# heading "## [X.Y.Z] - YYYY-MM-DD" (Unreleased has no date).
released() {
	r=$(sed -n 's/^## \[\([0-9][^]]*\)\] - [0-9]\{4\}-[0-9][0-9]-[0-9][0-9].*/\1/p' "$top/CHANGELOG.md" 2>/dev/null | head -n 1)
	echo "${r:-0.0.0}"
}

# ingit tells whether $top is the top of a git work tree. A tarball unpacked
# inside some other repository must not take that repository's version.
ingit() {
	command -v git >/dev/null 2>&1 &&
		[ "$(git -C "$top" rev-parse --show-toplevel 2>/dev/null)" = "$top" ]
}

version() {
	if ingit; then
		if d=$(git -C "$top" describe --tags --match 'v[0-9]*' 2>/dev/null); then
			echo "${d#v}"
			return
		fi
		r=$(released)
		c=$(git -C "$top" log -1 --format=%H -S "## [$r] - " -- CHANGELOG.md 2>/dev/null || true)
		if [ -n "$c" ]; then
			n=$(git -C "$top" rev-list --count "$c..HEAD")
		else
			n=$(git -C "$top" rev-list --count HEAD)
		fi
		if [ "$(git -C "$top" rev-parse --is-shallow-repository)" = true ]; then
			echo "version.sh: a shallow clone without tags: $r-$n may not sort after earlier builds; fetch with tags (git fetch --tags --unshallow)" >&2
		fi
		echo "$r-$n-g$(git -C "$top" rev-parse --short HEAD)"
		return
	fi
	if [ -f "$top/VERSION" ]; then
		v=$(head -n 1 "$top/VERSION")
		echo "${v#v}"
		return
	fi
	echo "$(released)+unknown"
}

# deb maps a version to a Debian version that sorts as the builds were
# made. dpkg and rpm (since 4.10) both sort "~" before anything, even the
# end of the string, and both take "+" as a separator that the more
# segments behind it make newer:
#
#   1.0.0-rc.1          1.0.0~rc.1            a pre-release, before 1.0.0
#   1.0.0-rc.1-3-gabc   1.0.0~rc.1+3.gabc     after rc.1, before 1.0.0
#   1.0.0               1.0.0
#   1.0.0-3-gabc        1.0.0+3.gabc          after 1.0.0, before 1.0.1
#   1.0.0-12-gdef       1.0.0+12.gdef         after the former: 12 > 3
#
# There is no "-": Debian would read a revision, and rpm forbids it in
# Version. The Debian package has no revision (it is native: floatip
# packages itself), and the RPM's Release is 1.
deb() {
	v=${1#v}
	snap=
	case $v in
	*-[0-9]*-g[0-9a-f]*)
		# git describe's -N-gHASH, behind the tag's own version.
		h=${v##*-g}
		rest=${v%-g*}
		n=${rest##*-}
		base=${rest%-*}
		if expr "X$n" : 'X[0-9][0-9]*$' >/dev/null && expr "X$h" : 'X[0-9a-f][0-9a-f]*$' >/dev/null; then
			v=$base
			snap="+$n.g$h"
		fi
		;;
	esac
	meta=
	case $v in
	*+*)
		meta="+$(echo "${v#*+}" | tr - .)"
		v=${v%%+*}
		;;
	esac
	pre=
	case $v in
	*-*)
		pre="~$(echo "${v#*-}" | tr - .)"
		v=${v%%-*}
		;;
	esac
	if ! expr "X$v" : 'X[0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*$' >/dev/null ||
		! expr "X$pre$meta" : 'X[A-Za-z0-9.~+]*$' >/dev/null; then
		echo "version.sh: $1 is not a semantic version (X.Y.Z[-pre][+meta], or git describe's form of one)" >&2
		exit 1
	fi
	echo "$v$pre$meta$snap"
}

# date prints the time of the source in seconds since 1970. make tarball
# gives the VERSION file the commit's time; a copy with neither has the
# time of CHANGELOG.md.
date() {
	if ingit; then
		git -C "$top" log -1 --format=%ct
	elif [ -f "$top/VERSION" ]; then
		stat -c %Y "$top/VERSION"
	else
		stat -c %Y "$top/CHANGELOG.md"
	fi
}

case ${1:-} in
'') version ;;
deb) deb "${2:?usage: version.sh deb VERSION}" ;;
date) date ;;
*)
	echo "usage: version.sh [deb VERSION | date]" >&2
	exit 2
	;;
esac
