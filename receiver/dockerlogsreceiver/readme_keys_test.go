package dockerlogsreceiver

import (
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/jsonfile"
)

// keyRow is one row of a README's key table.
var keyRow = regexp.MustCompile("^\\| `([a-z_.]+)` \\| ([^|]+) \\|")

// zeroMeans are the defaults that a zero value stands for, applied where the key is used rather than in
// createDefaultConfig.
var zeroMeans = map[string]any{
	"log_files.directory":     DefaultLogFilesDirectory,
	"log_files.poll_interval": jsonfile.DefaultPoll,
}

// sectionKeys are the config fields documented key by key (`log_files.enabled`); the others are one row each.
var sectionKeys = []string{"log_files", "lifecycle_events"}

// TestREADMEKeyTablesMatchTheConfig keeps the key tables of the repository's README and of the receiver's
// reference in step with Config: the same keys, and the defaults createDefaultConfig sets.
func TestREADMEKeyTablesMatchTheConfig(t *testing.T) {
	want := configKeys(reflect.TypeFor[Config](), "")
	defaults := configDefaults(t)
	for _, doc := range []struct{ path, section string }{
		{"../../README.md", "## Configure"},
		{"README.md", "## Configuration"},
	} {
		t.Run(doc.path, func(t *testing.T) {
			rows := keyTable(t, doc.path, doc.section)
			assert.ElementsMatch(t, want, slices.Collect(maps.Keys(rows)), "the table's keys are Config's mapstructure keys")
			for key, def := range defaults {
				if got, ok := rows[key]; ok {
					assert.Truef(t, sameDefault(got, def), "%s: the table says %q, createDefaultConfig sets %v", key, got, def)
				}
			}
		})
	}
}

// configKeys lists the mapstructure keys of a config struct, with the fields of sectionKeys spelled out.
func configKeys(typ reflect.Type, prefix string) []string {
	var keys []string
	for f := range typ.Fields() {
		tag := f.Tag.Get("mapstructure")
		if tag == "" || tag == "-" {
			continue
		}
		if slices.Contains(sectionKeys, tag) {
			keys = append(keys, configKeys(f.Type, tag+".")...)
			continue
		}
		keys = append(keys, prefix+tag)
	}
	return keys
}

// configDefaults returns the scalar defaults of createDefaultConfig by key.
func configDefaults(t *testing.T) map[string]any {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	out := map[string]any{}
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		for i := range v.NumField() {
			tag := v.Type().Field(i).Tag.Get("mapstructure")
			fv := v.Field(i)
			switch {
			case tag == "" || tag == "-":
			case slices.Contains(sectionKeys, tag):
				walk(fv, tag+".")
			case fv.Kind() == reflect.String, fv.Kind() == reflect.Bool, fv.Kind() == reflect.Int, fv.Kind() == reflect.Int64:
				out[prefix+tag] = fv.Interface()
			}
		}
	}
	walk(reflect.ValueOf(cfg).Elem(), "")
	for key, def := range zeroMeans {
		require.Zerof(t, out[key], "%s has a default in createDefaultConfig: drop it from zeroMeans", key)
		out[key] = def
	}
	return out
}

// sameDefault tells whether a table's default cell states the value def.
func sameDefault(cell string, def any) bool {
	cell = strings.TrimSpace(cell)
	value := strings.Trim(strings.Fields(cell + " ")[0], "`")
	switch d := def.(type) {
	case time.Duration:
		got, err := time.ParseDuration(value)
		return err == nil && got == d
	case int:
		return value == strconv.Itoa(d)
	case bool:
		return value == strconv.FormatBool(d)
	case string:
		if d == "" {
			return !strings.HasPrefix(cell, "`")
		}
		return value == d
	}
	return false
}

// keyTable reads the first key table after the heading section in path: key -> default cell.
func keyTable(t *testing.T, path, section string) map[string]string {
	t.Helper()
	text, err := os.ReadFile(path)
	require.NoError(t, err)
	_, after, found := strings.Cut(string(text), "\n"+section+"\n")
	require.Truef(t, found, "%s has no %q section", path, section)
	rows := map[string]string{}
	started := false
	for line := range strings.Lines(after) {
		m := keyRow.FindStringSubmatch(line)
		if m == nil {
			if started && !strings.HasPrefix(line, "|") {
				break
			}
			continue
		}
		started = true
		assert.NotContainsf(t, rows, m[1], "%s lists %s twice", path, m[1])
		rows[m[1]] = m[2]
	}
	require.NotEmptyf(t, rows, "%s has no key table under %q", path, section)
	return rows
}
