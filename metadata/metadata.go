// Package metadata holds the agent's OCF meta-data XML and reads it back
// into Go values, so that parameter names, types and defaults exist in one
// place only: the XML that Pacemaker, pcs and ocf-tester see.
package metadata

import (
	_ "embed"
	"encoding/xml"
	"fmt"
	"strings"
)

// XML is the meta-data document printed by the meta-data action. It must
// stay valid against resource-agents' ra-api-1.dtd (what ocf-tester checks)
// and pcs's ocf-1.0.rng (what pcs resource create checks).
//
//go:embed IPaddr2.xml
var XML []byte

// Agent is the parsed meta-data of a resource agent.
type Agent struct {
	Name       string      `xml:"name,attr"`
	Version    string      `xml:"version,attr"`
	OCFVersion string      `xml:"version"`
	LongDesc   string      `xml:"longdesc"`
	ShortDesc  string      `xml:"shortdesc"`
	Parameters []Parameter `xml:"parameters>parameter"`
	Actions    []Action    `xml:"actions>action"`
}

// Parameter is one OCF_RESKEY_<Name> the agent understands.
type Parameter struct {
	Name     string `xml:"name,attr"`
	Required bool01 `xml:"required,attr"`
	Unique   bool01 `xml:"unique,attr"`
	// Reloadable and UniqueGroup are OCF 1.1's; only the 1.1 face
	// (XML11) sets them.
	Reloadable  bool01  `xml:"reloadable,attr"`
	UniqueGroup string  `xml:"unique-group,attr"`
	LongDesc    string  `xml:"longdesc"`
	ShortDesc   string  `xml:"shortdesc"`
	Content     Content `xml:"content"`
}

// Content is a parameter's type and default value.
type Content struct {
	Type    string  `xml:"type,attr"`
	Default *string `xml:"default,attr"`
}

// Action is one action the agent declares, with Pacemaker's defaults for it.
type Action struct {
	Name     string `xml:"name,attr"`
	Timeout  string `xml:"timeout,attr"`
	Interval string `xml:"interval,attr"`
	Depth    string `xml:"depth,attr"`
}

// bool01 reads the OCF 0/1 attribute values; anything else is an error,
// because pcs refuses it too.
type bool01 bool

func (b *bool01) UnmarshalXMLAttr(a xml.Attr) error {
	switch a.Value {
	case "0":
		*b = false
	case "1":
		*b = true
	default:
		return fmt.Errorf("attribute %s=%q: want 0 or 1", a.Name.Local, a.Value)
	}
	return nil
}

// Parse reads a meta-data document.
func Parse(doc []byte) (*Agent, error) {
	var a Agent
	if err := xml.Unmarshal(doc, &a); err != nil {
		return nil, fmt.Errorf("parse meta-data: %w", err)
	}
	a.LongDesc = strings.TrimSpace(a.LongDesc)
	for i := range a.Parameters {
		p := &a.Parameters[i]
		p.LongDesc = strings.TrimSpace(p.LongDesc)
	}
	return &a, nil
}

//go:generate go run gen.go

// Declared returns the meta-data as go generate read it from the XML into
// agent.go, so that an action does not parse the XML: that took three
// quarters of a monitor's instructions. TestGenerated fails when agent.go
// no longer matches the XML.
func Declared() *Agent { return generated() }

// ValueType returns the type of the values of the parameter called name:
// its declared type, except for the parameters that IPaddr2 declares as
// strings but reads as booleans (with ocf_is_true). The meta-data keeps
// IPaddr2's types, which pcs shows and checks; the parser and the command
// line use the type of the values.
func ValueType(name string) (string, bool) {
	switch name {
	case "run_arping", "nodad", "noprefixroute", "check_link_status", "arp_bg":
		return "boolean", true
	}
	return DeclaredType(name)
}

func ptr(s string) *string { return &s }

// Defaults maps each parameter name to its declared default; a parameter
// without a default maps to "".
func (a *Agent) Defaults() map[string]string {
	d := make(map[string]string, len(a.Parameters))
	for _, p := range a.Parameters {
		d[p.Name] = p.Content.DefaultValue()
	}
	return d
}

// DefaultValue is the declared default, or "" when there is none.
func (c Content) DefaultValue() string {
	if c.Default == nil {
		return ""
	}
	return *c.Default
}

// Parameter returns the parameter called name.
func (a *Agent) Parameter(name string) (Parameter, bool) {
	for _, p := range a.Parameters {
		if p.Name == name {
			return p, true
		}
	}
	return Parameter{}, false
}
