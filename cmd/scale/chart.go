package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// usersTicks marks the sizes measured, as 1k, 100k, 1M.
type usersTicks struct{ sizes []int }

func (t usersTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for _, n := range t.sizes {
		ts = append(ts, plot.Tick{Value: float64(n), Label: shortCount(n)})
	}
	return ts
}

func shortCount(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// writeChart draws p99 against data size, one panel per store, one line
// per endpoint, both axes logarithmic, to an SVG file.
func writeChart(r *results, path string) error {
	var stores []string
	var sizes []int
	byStore := map[string]map[string]plotter.XYs{}
	for _, f := range r.Figures {
		if f.Kind != "endpoint" {
			continue
		}
		if byStore[f.Store] == nil {
			byStore[f.Store] = map[string]plotter.XYs{}
			stores = append(stores, f.Store)
		}
		if !slices.Contains(sizes, f.Users) {
			sizes = append(sizes, f.Users)
		}
		byStore[f.Store][f.Name] = append(byStore[f.Store][f.Name], plotter.XY{X: float64(f.Users), Y: max(f.P99, 0.001)})
	}
	if len(stores) == 0 {
		return fmt.Errorf("no endpoint figures to draw")
	}
	slices.Sort(sizes)
	row := make([]*plot.Plot, len(stores))
	for i, s := range stores {
		p := plot.New()
		p.Title.Text = s
		p.X.Label.Text = "users (10 sessions each)"
		p.Y.Label.Text = "p99, ms"
		p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
		p.X.Tick.Marker = usersTicks{sizes}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		// Room on the left for the legend.
		p.X.Min, p.X.Max = float64(sizes[0])/40, float64(sizes[len(sizes)-1])*2
		p.Legend.Top = true
		p.Legend.Left = true
		var lines []any
		for _, op := range operations {
			if xys, ok := byStore[s][op.name]; ok {
				slices.SortFunc(xys, func(a, b plotter.XY) int { return int(a.X - b.X) })
				lines = append(lines, op.name, xys)
			}
		}
		if err := plotutil.AddLinePoints(p, lines...); err != nil {
			return err
		}
		row[i] = p
	}
	// Two panels a row.
	cols := min(len(row), 2)
	var grid [][]*plot.Plot
	for i := 0; i < len(row); i += cols {
		line := make([]*plot.Plot, cols) // a nil plot leaves its tile empty
		copy(line, row[i:min(i+cols, len(row))])
		grid = append(grid, line)
	}
	const w, h = 5 * vg.Inch, 4 * vg.Inch
	c := vgsvg.New(w*vg.Length(cols), h*vg.Length(len(grid)))
	tiles := draw.Tiles{Rows: len(grid), Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(grid, tiles, draw.New(c))
	for r, line := range grid {
		for i, p := range line {
			if p != nil {
				p.Draw(canvases[r][i])
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
