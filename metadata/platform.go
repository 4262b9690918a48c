package metadata

import (
	"bytes"
	"strconv"
	"strings"
)

// PlatformDefaults returns the defaults that depend on the distribution,
// given the text of its os-release file: IPaddr2 4.17 and later turn
// check_link_status off by default on Red Hat based systems before 10.1,
// whose earlier IPaddr2 ignored the link. Elsewhere the meta-data's
// defaults hold and the map is empty.
func PlatformDefaults(osRelease []byte) map[string]string {
	id, ver := osReleaseValue(osRelease, "ID"), osReleaseValue(osRelease, "VERSION_ID")
	if redHatBased(id) && versionBefore(ver, []int{10, 1}) {
		return map[string]string{"check_link_status": "false"}
	}
	return map[string]string{}
}

// osReleaseValue reads KEY=value from os-release(5) text, quotes removed.
func osReleaseValue(text []byte, key string) string {
	for _, line := range strings.Split(string(text), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && k == key {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}

// redHatBased follows resource-agents' ocf-distro: these distribution IDs
// count as Red Hat based.
func redHatBased(id string) bool {
	id = strings.ToLower(id)
	for _, s := range []string{"alma", "centos", "fedora", "ol", "redhat", "rhel", "rocky", "scientific"} {
		if strings.Contains(id, s) {
			return true
		}
	}
	return false
}

// versionBefore says whether the dotted version v is older than want. A
// version that is not dotted numbers is not older: the default stays.
func versionBefore(v string, want []int) bool {
	if v == "" {
		return false
	}
	parts := strings.Split(v, ".")
	for i, w := range want {
		n := 0
		if i < len(parts) {
			var err error
			if n, err = strconv.Atoi(parts[i]); err != nil || n < 0 {
				return false
			}
		}
		if n != w {
			return n < w
		}
	}
	return false
}

// WithDefaults returns the meta-data document with the defaults of the
// named parameters replaced, so that the meta-data shows the defaults the
// actions use.
func WithDefaults(doc []byte, defaults map[string]string) []byte {
	for name, value := range defaults {
		start := bytes.Index(doc, []byte(`<parameter name="`+name+`"`))
		if start < 0 {
			continue
		}
		end := bytes.Index(doc[start:], []byte("</parameter>"))
		attr := []byte(`default="`)
		at := bytes.Index(doc[start:start+end], attr)
		if end < 0 || at < 0 {
			continue
		}
		at += start + len(attr)
		n := bytes.IndexByte(doc[at:], '"')
		out := make([]byte, 0, len(doc)+len(value))
		out = append(out, doc[:at]...)
		out = append(out, escapeAttr(value)...)
		doc = append(out, doc[at+n:]...)
	}
	return doc
}

func escapeAttr(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
