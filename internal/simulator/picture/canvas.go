package picture

import (
	"embed"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
	"golang.org/x/text/unicode/norm"
)

//go:embed fonts/DejaVuSans.ttf fonts/DejaVuSans-Bold.ttf fonts/DejaVuSansMono.ttf
var fontFiles embed.FS

type fontSet struct {
	regular, bold, mono *opentype.Font
}

// Parsing the fonts takes a few milliseconds and the result is read-only, so it is done once.
var loadFonts = sync.OnceValues(func() (*fontSet, error) {
	parse := func(name string) (*opentype.Font, error) {
		b, err := fontFiles.ReadFile("fonts/" + name)
		if err != nil {
			return nil, err
		}
		f, err := opentype.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		return f, nil
	}
	var fs fontSet
	var err error
	if fs.regular, err = parse("DejaVuSans.ttf"); err != nil {
		return nil, err
	}
	if fs.bold, err = parse("DejaVuSans-Bold.ttf"); err != nil {
		return nil, err
	}
	if fs.mono, err = parse("DejaVuSansMono.ttf"); err != nil {
		return nil, err
	}
	return &fs, nil
})

type style int

const (
	regular style = iota
	bold
	mono
)

// canvas is one picture being drawn. opentype faces and the rasterizer keep scratch buffers
// and are not safe for concurrent use, so each picture gets its own.
type canvas struct {
	img   *image.RGBA
	fonts *fontSet
	faces map[faceKey]font.Face
	z     vector.Rasterizer
	// clip, when not empty, limits fills (a portrait stays inside its photo frame).
	clip image.Rectangle
}

type faceKey struct {
	s    style
	size float64
}

func newCanvas(w, h int) (*canvas, error) {
	fs, err := loadFonts()
	if err != nil {
		return nil, err
	}
	return &canvas{img: image.NewRGBA(image.Rect(0, 0, w, h)), fonts: fs, faces: map[faceKey]font.Face{}}, nil
}

func (c *canvas) face(s style, size float64) font.Face {
	k := faceKey{s, size}
	if f, ok := c.faces[k]; ok {
		return f
	}
	src := c.fonts.regular
	switch s {
	case bold:
		src = c.fonts.bold
	case mono:
		src = c.fonts.mono
	}
	f, err := opentype.NewFace(src, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		// NewFace fails only for invalid options, which are constants here.
		panic(err)
	}
	c.faces[k] = f
	return f
}

// text draws s with its baseline at (x, y) and returns the advance in pixels.
func (c *canvas) text(s style, size float64, x, y float64, col color.Color, str string) float64 {
	str = norm.NFC.String(str) // DejaVu has precomposed Vietnamese glyphs, not all combining stacks
	d := font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: c.face(s, size),
		Dot: fixed.Point26_6{X: fixed.Int26_6(x * 64), Y: fixed.Int26_6(y * 64)}}
	d.DrawString(str)
	return float64(d.Dot.X)/64 - x
}

func (c *canvas) measure(s style, size float64, str string) float64 {
	return float64(font.MeasureString(c.face(s, size), norm.NFC.String(str))) / 64
}

// fitText draws str at the largest size ≤ size that fits in maxW, as card printers shrink long addresses.
func (c *canvas) fitText(s style, size, x, y, maxW float64, col color.Color, str string) {
	for size > 9 && c.measure(s, size, str) > maxW {
		size -= 1
	}
	c.text(s, size, x, y, col, str)
}

// centered draws str centered on cx.
func (c *canvas) centered(s style, size, cx, y float64, col color.Color, str string) {
	c.text(s, size, cx-c.measure(s, size, str)/2, y, col, str)
}

// path is a closed outline in picture coordinates; fill rasterizes it only within its bounding
// box, because rasterizing over the whole picture for every small shape would dominate the cost.
type path struct {
	ops                    []pathOp
	started                bool
	minX, minY, maxX, maxY float64
}

type pathOp struct {
	kind byte // 'M', 'L', 'Q', 'C', 'Z'
	pts  [3][2]float64
}

func (p *path) grow(x, y float64) {
	if !p.started {
		p.started = true
		p.minX, p.maxX, p.minY, p.maxY = x, x, y, y
	}
	p.minX, p.maxX = math.Min(p.minX, x), math.Max(p.maxX, x)
	p.minY, p.maxY = math.Min(p.minY, y), math.Max(p.maxY, y)
}

func (p *path) moveTo(x, y float64) {
	p.grow(x, y)
	p.ops = append(p.ops, pathOp{kind: 'M', pts: [3][2]float64{{x, y}}})
}

func (p *path) lineTo(x, y float64) {
	p.grow(x, y)
	p.ops = append(p.ops, pathOp{kind: 'L', pts: [3][2]float64{{x, y}}})
}

func (p *path) quadTo(bx, by, x, y float64) {
	p.grow(bx, by)
	p.grow(x, y)
	p.ops = append(p.ops, pathOp{kind: 'Q', pts: [3][2]float64{{bx, by}, {x, y}}})
}

func (p *path) cubeTo(bx, by, cx, cy, x, y float64) {
	p.grow(bx, by)
	p.grow(cx, cy)
	p.grow(x, y)
	p.ops = append(p.ops, pathOp{kind: 'C', pts: [3][2]float64{{bx, by}, {cx, cy}, {x, y}}})
}

func (p *path) close() { p.ops = append(p.ops, pathOp{kind: 'Z'}) }

// kappa places cubic Bézier control points so four curves approximate an ellipse.
const kappa = 0.5522847498

func (p *path) ellipse(cx, cy, rx, ry float64) {
	p.moveTo(cx+rx, cy)
	p.cubeTo(cx+rx, cy+ry*kappa, cx+rx*kappa, cy+ry, cx, cy+ry)
	p.cubeTo(cx-rx*kappa, cy+ry, cx-rx, cy+ry*kappa, cx-rx, cy)
	p.cubeTo(cx-rx, cy-ry*kappa, cx-rx*kappa, cy-ry, cx, cy-ry)
	p.cubeTo(cx+rx*kappa, cy-ry, cx+rx, cy-ry*kappa, cx+rx, cy)
	p.close()
}

func (p *path) roundRect(x0, y0, x1, y1, r float64) {
	k := r * (1 - kappa)
	p.moveTo(x0+r, y0)
	p.lineTo(x1-r, y0)
	p.cubeTo(x1-k, y0, x1, y0+k, x1, y0+r)
	p.lineTo(x1, y1-r)
	p.cubeTo(x1, y1-k, x1-k, y1, x1-r, y1)
	p.lineTo(x0+r, y1)
	p.cubeTo(x0+k, y1, x0, y1-k, x0, y1-r)
	p.lineTo(x0, y0+r)
	p.cubeTo(x0, y0+k, x0+k, y0, x0+r, y0)
	p.close()
}

func (p *path) polygon(pts [][2]float64) {
	for i, q := range pts {
		if i == 0 {
			p.moveTo(q[0], q[1])
		} else {
			p.lineTo(q[0], q[1])
		}
	}
	p.close()
}

func (c *canvas) fill(p *path, col color.Color) {
	b := c.img.Bounds()
	r := image.Rect(int(math.Floor(p.minX))-1, int(math.Floor(p.minY))-1, int(math.Ceil(p.maxX))+1, int(math.Ceil(p.maxY))+1).Intersect(b)
	if !c.clip.Empty() {
		r = r.Intersect(c.clip)
	}
	if r.Empty() {
		return
	}
	ox, oy := float64(r.Min.X), float64(r.Min.Y)
	c.z.Reset(r.Dx(), r.Dy())
	c.z.DrawOp = draw.Over
	for _, op := range p.ops {
		q := op.pts
		switch op.kind {
		case 'M':
			c.z.MoveTo(float32(q[0][0]-ox), float32(q[0][1]-oy))
		case 'L':
			c.z.LineTo(float32(q[0][0]-ox), float32(q[0][1]-oy))
		case 'Q':
			c.z.QuadTo(float32(q[0][0]-ox), float32(q[0][1]-oy), float32(q[1][0]-ox), float32(q[1][1]-oy))
		case 'C':
			c.z.CubeTo(float32(q[0][0]-ox), float32(q[0][1]-oy), float32(q[1][0]-ox), float32(q[1][1]-oy), float32(q[2][0]-ox), float32(q[2][1]-oy))
		case 'Z':
			c.z.ClosePath()
		}
	}
	c.z.Draw(c.img, r, image.NewUniform(col), image.Point{})
}

func (c *canvas) ellipse(cx, cy, rx, ry float64, col color.Color) {
	var p path
	p.ellipse(cx, cy, rx, ry)
	c.fill(&p, col)
}

func (c *canvas) roundRect(x0, y0, x1, y1, r float64, col color.Color) {
	var p path
	p.roundRect(x0, y0, x1, y1, r)
	c.fill(&p, col)
}

func (c *canvas) rect(x0, y0, x1, y1 int, col color.Color) {
	draw.Draw(c.img, image.Rect(x0, y0, x1, y1), image.NewUniform(col), image.Point{}, draw.Over)
}

// stroke draws a polyline of width w as one outline per segment with round joins.
func (c *canvas) stroke(pts [][2]float64, w float64, col color.Color) {
	if len(pts) < 2 {
		return
	}
	var p path
	h := w / 2
	for i := 0; i+1 < len(pts); i++ {
		a, b := pts[i], pts[i+1]
		dx, dy := b[0]-a[0], b[1]-a[1]
		l := math.Hypot(dx, dy)
		if l == 0 {
			continue
		}
		nx, ny := -dy/l*h, dx/l*h
		// Wound the same way as path.ellipse, so the round joins below add to it rather than cancel.
		p.moveTo(a[0]-nx, a[1]-ny)
		p.lineTo(b[0]-nx, b[1]-ny)
		p.lineTo(b[0]+nx, b[1]+ny)
		p.lineTo(a[0]+nx, a[1]+ny)
		p.close()
	}
	// Round joins go into the same outline: the rasterizer clamps overlapping coverage, so a
	// translucent stroke is not darker where its pieces overlap.
	for _, q := range pts[1 : len(pts)-1] {
		p.ellipse(q[0], q[1], h, h)
	}
	c.fill(&p, col)
}

// curve samples a quadratic Bézier from a through control b to d.
func curve(a, b, d [2]float64, n int) [][2]float64 {
	pts := make([][2]float64, 0, n+1)
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		u := 1 - t
		pts = append(pts, [2]float64{u*u*a[0] + 2*u*t*b[0] + t*t*d[0], u*u*a[1] + 2*u*t*b[1] + t*t*d[1]})
	}
	return pts
}

// arc samples an elliptic arc from angle a0 to a1 (radians).
func arc(cx, cy, rx, ry, a0, a1 float64, n int) [][2]float64 {
	pts := make([][2]float64, 0, n+1)
	for i := 0; i <= n; i++ {
		a := a0 + (a1-a0)*float64(i)/float64(n)
		pts = append(pts, [2]float64{cx + rx*math.Cos(a), cy + ry*math.Sin(a)})
	}
	return pts
}

func rgb(r, g, b uint8) color.NRGBA     { return color.NRGBA{r, g, b, 255} }
func rgba(r, g, b, a uint8) color.NRGBA { return color.NRGBA{r, g, b, a} }
func mix(a, b color.NRGBA, t float64) color.NRGBA {
	l := func(x, y uint8) uint8 { return uint8(float64(x)*(1-t) + float64(y)*t + 0.5) }
	return color.NRGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), l(a.A, b.A)}
}
func shade(a color.NRGBA, f float64) color.NRGBA {
	s := func(x uint8) uint8 { return uint8(math.Max(0, math.Min(255, float64(x)*f))) }
	return color.NRGBA{s(a.R), s(a.G), s(a.B), a.A}
}
