package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/floatip/floatip/metadata"
)

// paramFlag is the value of a parameter's flag. It keeps the text as
// typed: the flag's value goes into the parameter map as a string, and
// config alone decides what it means (an OCF boolean is also yes, on, 1
// or ja), so that --nodad=yes and OCF_RESKEY_nodad=yes cannot differ. Type
// names the type of the values, for --help and pflag's messages.
type paramFlag struct {
	name  string
	value string
	typ   string
	// set says the command line gave the flag already.
	set bool
}

func (f *paramFlag) String() string { return f.value }
func (f *paramFlag) Type() string   { return f.typ }

// Set takes the flag's value once: a parameter given twice ("--ip a
// --ip b", or --cidr-netmask and --cidr_netmask) is refused rather than
// the last one taken unseen, as an agent that changes the node's
// addresses as root should not guess which one was meant.
func (f *paramFlag) Set(s string) error {
	if f.set {
		return &repeatedFlagError{name: f.name, first: f.value, again: s}
	}
	f.value, f.set = s, true
	return nil
}

// repeatedFlagError is a parameter's flag given twice on one command line.
type repeatedFlagError struct {
	name, first, again string
}

func (e *repeatedFlagError) Error() string {
	return fmt.Sprintf("--%s given twice (%s, then %s): give each parameter once", e.name, quoteArg(e.first), quoteArg(e.again))
}

// flagType is the type name a parameter's flag shows: the type its values
// are read as (metadata.ValueType), in Go's short words.
func flagType(name string) string {
	switch t, _ := metadata.ValueType(name); t {
	case "boolean":
		return "bool"
	case "integer":
		return "int"
	}
	return "string"
}

// newFlagSet makes a flag for each parameter, with the default that
// applies on this platform, and the few options of the command itself.
func newFlagSet(name string, md *metadata.Agent, defaults map[string]string, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetNormalizeFunc(paramNames(md))
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.Usage = func() {}
	for _, p := range md.Parameters {
		v := &paramFlag{name: p.Name, value: defaults[p.Name], typ: flagType(p.Name)}
		f := fs.VarPF(v, p.Name, "", p.ShortDesc)
		if v.typ == "bool" {
			// --nodad alone is --nodad=true, as for any boolean flag.
			f.NoOptDefVal = "true"
		}
	}
	fs.BoolP("help", "h", false, "show this help")
	fs.BoolP("version", "V", false, "print the version")
	fs.Int("background-sender", 0, "internal: run as the detached sender of a burst whose first frames start sent")
	fs.MarkHidden("background-sender")
	fs.Uint64("background-netns", 0, "internal: the network namespace, by inode, that the start of the background sender announced in")
	fs.MarkHidden("background-netns")
	fs.Bool("background-share", false, "internal: the background sender also serves the bursts that other starts in its namespace hand it")
	fs.MarkHidden("background-share")
	return fs
}

// paramNames lets a parameter's flag be spelled with hyphens, as Linux
// tools spell theirs (--cidr-netmask), beside the meta-data's name
// (--cidr_netmask), which stays the one that help and errors show. Other
// flags keep their one spelling.
func paramNames(md *metadata.Agent) func(*pflag.FlagSet, string) pflag.NormalizedName {
	params := map[string]bool{}
	for _, p := range md.Parameters {
		params[p.Name] = true
	}
	return func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if u := strings.ReplaceAll(name, "-", "_"); params[u] {
			return pflag.NormalizedName(u)
		}
		return pflag.NormalizedName(name)
	}
}

// joinBoolValues rewrites "--name word" as "--name=word" for a boolean
// parameter followed by a word that is not an action. pflag lets a
// boolean flag stand alone (--nodad means true), so on its own it would
// read "--unique_clone_address false", as the background sender is started
// (agent.SenderArgs) and as one writes any other parameter, as true and a
// stray "false"; and "--nodad perhaps" as true and a stray word, where
// "--nodad=perhaps" is refused as no boolean: both now say the same. An
// action is left to stand on its own: "floatip --nodad start" starts.
func joinBoolValues(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		arg := args[i]
		out = append(out, arg)
		if arg == "--" {
			return append(out, args[i+1:]...)
		}
		name, ok := strings.CutPrefix(arg, "--")
		if !ok || strings.Contains(name, "=") || i+1 == len(args) {
			continue
		}
		f := fs.Lookup(name)
		switch {
		case f == nil:
		case f.NoOptDefVal == "":
			// A flag that takes the next argument as its value, whatever
			// it looks like: that argument is no flag.
			out = append(out, args[i+1])
			i++
		case f.Value.Type() == "bool" && !isAction(args[i+1]) && !strings.HasPrefix(args[i+1], "-"):
			if _, param := f.Value.(*paramFlag); param {
				out[len(out)-1] = arg + "=" + args[i+1]
				i++
			}
		}
	}
	return out
}

// isAction says whether s names an action, which a boolean flag before
// it does not take as its value.
func isAction(s string) bool {
	_, ok := lookupCommand(s)
	return ok
}

// quoteArg quotes an argument for an exit reason: escaped, so that a line
// break or invalid UTF-8 cannot break the one line, and cut short.
func quoteArg(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
