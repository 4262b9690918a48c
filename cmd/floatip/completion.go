package main

import (
	"fmt"
	"strings"

	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/ocf"
)

// completionShells are the shells completion prints a script for.
var completionShells = []string{"bash"}

// bashCompletion is the bash completion script: the actions in the first
// place, an action after help, a shell after completion, and the
// parameter flags anywhere, with the nics for --nic and true/false after
// a bool. It is generated from the commands and the meta-data, so a new
// parameter completes without an edit here.
func bashCompletion(md *metadata.Agent) string {
	var flags, bools, valued []string
	for _, p := range md.Parameters {
		flags = append(flags, "--"+p.Name)
		if flagType(p.Name) == "bool" {
			bools = append(bools, "--"+p.Name)
		} else {
			valued = append(valued, "--"+p.Name)
		}
	}
	flags = append(flags, "--help", "--version")
	var b strings.Builder
	fmt.Fprintf(&b, `# bash completion for floatip(8), also installed as the OCF agent
# ocf:floatip:IPaddr2. Load it with: source <(floatip completion bash)
_floatip() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=
	[[ $COMP_CWORD -gt 0 ]] && prev=${COMP_WORDS[COMP_CWORD-1]}
	local actions=%s
	local flags=%s
	local bools=%s
	local valued=%s
	local boolwords=%s
	COMPREPLY=()
	# The value of a flag that takes one.
	if [[ " $valued " == *" $prev "* ]]; then
		if [[ $prev == --nic ]]; then
			local nics=(/sys/class/net/*)
			COMPREPLY=($(compgen -W "${nics[*]##*/}" -- "$cur"))
		fi
		return 0
	fi
	if [[ " $bools " == *" $prev "* && $cur != -* ]]; then
		COMPREPLY=($(compgen -W "true false" -- "$cur"))
		[[ ${#COMPREPLY[@]} -gt 0 ]] && return 0
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
		return 0
	fi
	# The words before this one that are neither flags nor their values.
	local i w words=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == -* ]]; then
			if [[ " $valued " == *" $w "* ]]; then
				((i++))
			elif [[ " $bools " == *" $w "* && $((i + 1)) -lt $COMP_CWORD &&
				" $boolwords " == *" ${COMP_WORDS[i+1]} "* ]]; then
				((i++))
			fi
			continue
		fi
		words+=("$w")
	done
	case ${#words[@]}:${words[0]} in
	0:*) COMPREPLY=($(compgen -W "$actions" -- "$cur")) ;;
	1:help) COMPREPLY=($(compgen -W "$actions" -- "$cur")) ;;
	1:completion) COMPREPLY=($(compgen -W %s -- "$cur")) ;;
	esac
	return 0
}
complete -F _floatip floatip /usr/sbin/floatip /usr/lib/ocf/resource.d/floatip/IPaddr2
`, shellQuote(strings.Join(actionNames(), " ")), shellQuote(strings.Join(flags, " ")),
		shellQuote(strings.Join(bools, " ")), shellQuote(strings.Join(valued, " ")), shellQuote(strings.Join(ocf.BoolWords(), " ")),
		shellQuote(strings.Join(completionShells, " ")))
	return b.String()
}

// shellQuote quotes s as one word for sh and bash.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
