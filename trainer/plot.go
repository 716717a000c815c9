package trainer

import (
	"fmt"
	"math"
	"strings"
)

// LossSVG draws the training loss (a line) and the eval loss (dots and a
// dashed line) of log records against the step, as a standalone SVG. The
// evaluation of the starting model (Record.Base, step 0) is labelled
// "base" and the last evaluation "tuned", with their losses.
func LossSVG(recs []Record, title string) []byte {
	const w, h, ml, mr, mt, mb = 720.0, 400.0, 60.0, 20.0, 36.0, 44.0
	type pt struct{ x, y float64 }
	var train, eval []pt
	base := -1 // index in eval
	for _, r := range recs {
		switch {
		case r.Type == "step" && r.Loss != nil:
			train = append(train, pt{float64(r.Step), *r.Loss})
		case r.Type == "eval" && r.EvalLoss != nil:
			if r.Base {
				base = len(eval)
			}
			eval = append(eval, pt{float64(r.Step), *r.EvalLoss})
		}
	}
	x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range [][]pt{train, eval} {
		for _, p := range s {
			x0, x1 = math.Min(x0, p.x), math.Max(x1, p.x)
			y0, y1 = math.Min(y0, p.y), math.Max(y1, p.y)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%g" height="%g" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%g" y="22" font-size="15">%s</text>`+"\n", ml, xmlEscape(title))
	if len(train)+len(eval) == 0 {
		b.WriteString(`<text x="60" y="200">no finite loss logged yet</text></svg>` + "\n")
		return []byte(b.String())
	}
	if x1 == x0 {
		x0, x1 = x0-1, x1+1
	}
	if y1 == y0 {
		y0, y1 = y0-0.5, y1+0.5
	}
	pad := (y1 - y0) * 0.05
	y0, y1 = math.Max(0, y0-pad), y1+pad
	pw, ph := w-ml-mr, h-mt-mb
	sx := func(x float64) float64 { return ml + (x-x0)/(x1-x0)*pw }
	sy := func(y float64) float64 { return mt + (1-(y-y0)/(y1-y0))*ph }
	// axes and ticks
	fmt.Fprintf(&b, `<g stroke="#888" fill="none"><rect x="%g" y="%g" width="%g" height="%g"/></g>`+"\n", ml, mt, pw, ph)
	for i := 0; i <= 5; i++ {
		yv := y0 + (y1-y0)*float64(i)/5
		y := sy(yv)
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#eee"/><text x="%g" y="%.1f" text-anchor="end">%.3g</text>`+"\n", ml, ml+pw, y, y, ml-6, y+4, yv)
		xv := x0 + (x1-x0)*float64(i)/5
		x := sx(xv)
		fmt.Fprintf(&b, `<text x="%.1f" y="%g" text-anchor="middle">%.0f</text>`+"\n", x, mt+ph+16, xv)
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">step</text>`+"\n", ml+pw/2, h-8)
	fmt.Fprintf(&b, `<text x="14" y="%g" transform="rotate(-90 14 %g)" text-anchor="middle">loss</text>`+"\n", mt+ph/2, mt+ph/2)
	line := func(ps []pt, style string) {
		if len(ps) == 0 {
			return
		}
		b.WriteString(`<polyline fill="none" ` + style + ` points="`)
		for i, p := range ps {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.1f,%.1f", sx(p.x), sy(p.y))
		}
		b.WriteString(`"/>` + "\n")
	}
	line(train, `stroke="#1f77b4" stroke-width="1.2"`)
	line(eval, `stroke="#d62728" stroke-width="1.5" stroke-dasharray="5,3"`)
	for _, p := range eval {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="#d62728"/>`+"\n", sx(p.x), sy(p.y))
	}
	label := func(p pt, text, anchor string, dx float64) {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="%s" fill="#d62728">%s %.3f</text>`+"\n", sx(p.x)+dx, sy(p.y)-8, anchor, text, p.y)
	}
	if base >= 0 {
		label(eval[base], "base", "start", 4)
	}
	if last := len(eval) - 1; last >= 0 && last != base {
		label(eval[last], "tuned", "end", -4)
	}
	// legend
	lx := ml + pw - 150
	fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="#1f77b4" stroke-width="2"/><text x="%g" y="%g">train loss</text>`+"\n", lx, lx+20, mt+14, mt+14, lx+26, mt+18)
	fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="#d62728" stroke-width="2" stroke-dasharray="5,3"/><text x="%g" y="%g">eval loss</text>`+"\n", lx, lx+20, mt+32, mt+32, lx+26, mt+36)
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
