package serve

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Charts remembers each chart a renderer loaded, by path, for as long as no
// file under that path changes: the matrix renders one chart copy for many
// cases, and reading and parsing it was a tenth of every render. A chart is
// kept only when reusable says rendering cannot change it (Helm edits the
// dependency lists of a chart that has dependencies while it renders).
type Charts[C any] struct {
	Load     func(path string) (C, error)
	Reusable func(C) bool
	known    map[string]loaded[C]
}

type loaded[C any] struct {
	fingerprint string
	chart       C
}

// Get returns the chart at path, from memory when its files are unchanged.
func (c *Charts[C]) Get(path string) (C, error) {
	print, err := fingerprint(path)
	if err != nil {
		// The loader reports a missing or unreadable chart as the CLI does.
		return c.Load(path)
	}
	if hit, ok := c.known[path]; ok && hit.fingerprint == print {
		return hit.chart, nil
	}
	chart, err := c.Load(path)
	if err != nil || !c.Reusable(chart) {
		return chart, err
	}
	if c.known == nil {
		c.known = map[string]loaded[C]{}
	}
	c.known[path] = loaded[C]{fingerprint: print, chart: chart}
	return chart, nil
}

// fingerprint names every file under path with its size, mode and
// modification time in nanoseconds: a copy rewritten in place changes it.
func fingerprint(path string) (string, error) {
	var b strings.Builder
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s\x00%d\x00%v\x00%d\n", p, info.Size(), info.Mode(), info.ModTime().UnixNano())
		return nil
	})
	if _, statErr := os.Stat(path); statErr != nil {
		return "", statErr
	}
	return b.String(), err
}
