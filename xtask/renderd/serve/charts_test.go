package serve

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// counted is a Charts whose loader counts its calls and returns the call number as the chart.
func counted(reusable bool) (*Charts[int], *int) {
	loads := 0
	return &Charts[int]{
		Load:     func(string) (int, error) { loads++; return loads, nil },
		Reusable: func(int) bool { return reusable },
	}, &loads
}

func chartDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"Chart.yaml", "templates/a.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("a: 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestAnUnchangedChartIsLoadedOnce(t *testing.T) {
	charts, loads := counted(true)
	dir := chartDir(t)
	for i := 0; i < 3; i++ {
		if c, err := charts.Get(dir); err != nil || c != 1 {
			t.Fatalf("get %d: chart %d, err %v; want the first load", i, c, err)
		}
	}
	if *loads != 1 {
		t.Fatalf("loaded %d times, want 1", *loads)
	}
}

func TestAChangedFileReloadsTheChart(t *testing.T) {
	charts, loads := counted(true)
	dir := chartDir(t)
	charts.Get(dir)
	later := time.Now().Add(time.Second)
	edited := filepath.Join(dir, "templates/a.yaml")
	if err := os.WriteFile(edited, []byte("a: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Same size: only the modification time tells the edit apart.
	if err := os.Chtimes(edited, later, later); err != nil {
		t.Fatal(err)
	}
	if c, _ := charts.Get(dir); c != 2 || *loads != 2 {
		t.Fatalf("after an edit: chart %d after %d loads, want a second load", c, *loads)
	}
	if err := os.WriteFile(filepath.Join(dir, "templates/b.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if c, _ := charts.Get(dir); c != 3 {
		t.Fatalf("after a new file: chart %d, want a third load", c)
	}
}

func TestAChartRenderingMayChangeIsNeverKept(t *testing.T) {
	charts, loads := counted(false)
	dir := chartDir(t)
	charts.Get(dir)
	charts.Get(dir)
	if *loads != 2 {
		t.Fatalf("loaded %d times, want every time", *loads)
	}
}

func TestAMissingChartGoesToTheLoader(t *testing.T) {
	want := errors.New("the loader's own error")
	charts := &Charts[int]{Load: func(string) (int, error) { return 0, want }, Reusable: func(int) bool { return true }}
	if _, err := charts.Get(filepath.Join(t.TempDir(), "absent")); err != want {
		t.Fatalf("got %v, want the loader's error", err)
	}
}
