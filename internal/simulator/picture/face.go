package picture

import (
	"hash/fnv"
	"image"
	"image/color"
	"math/rand/v2"
	"strings"

	"github.com/kycdesk/kycdesk/internal/simulator/persona"
)

// appearance is how a person looks, derived from who they are so that the card portrait and
// every selfie of the same person show the same face.
type appearance struct {
	skin, hair, shirt, iris color.NRGBA
	hairStyle               int // hairShort, hairLong, hairBun, hairReceding, hairSidePart
	glasses, mole           bool
	faceW                   float64 // head width relative to the standard, 0.9–1.1
	eyeGap                  float64
	browArch                float64
	lipFull                 float64
}

const (
	hairShort = iota
	hairLong
	hairBun
	hairReceding
	hairSidePart
)

var (
	skinsVN = []color.NRGBA{rgb(241, 207, 178), rgb(233, 192, 160), rgb(222, 178, 142), rgb(210, 165, 128), rgb(192, 146, 108)}
	skinsAU = []color.NRGBA{rgb(250, 221, 200), rgb(240, 200, 172), rgb(224, 178, 140), rgb(176, 124, 88), rgb(122, 84, 58), rgb(236, 196, 160)}
	hairVN  = []color.NRGBA{rgb(28, 24, 24), rgb(36, 30, 28), rgb(52, 38, 30), rgb(24, 22, 26)}
	hairAU  = []color.NRGBA{rgb(205, 172, 112), rgb(110, 76, 48), rgb(138, 62, 34), rgb(40, 32, 28), rgb(78, 56, 38), rgb(226, 200, 150)}
	shirts  = []color.NRGBA{rgb(250, 250, 250), rgb(32, 48, 92), rgb(150, 185, 220), rgb(110, 30, 40), rgb(90, 95, 100), rgb(40, 80, 60), rgb(235, 230, 215)}
	irises  = []color.NRGBA{rgb(60, 40, 28), rgb(45, 30, 22), rgb(70, 100, 140), rgb(80, 110, 70), rgb(100, 70, 40)}
)

func appearanceOf(p persona.Person) appearance {
	h := fnv.New64a()
	h.Write([]byte(p.Key() + "|" + p.FullName()))
	r := rand.New(rand.NewPCG(h.Sum64(), 0x5eed))
	var a appearance
	if p.Country == persona.Vietnam {
		a.skin = pick(r, skinsVN)
		a.hair = pick(r, hairVN)
		a.iris = irises[r.IntN(2)]
	} else {
		a.skin = pick(r, skinsAU)
		a.hair = pick(r, hairAU)
		a.iris = pick(r, irises)
	}
	if p.Age(p.IssueDate) > 50 && r.IntN(2) == 0 {
		a.hair = mix(a.hair, rgb(175, 172, 168), 0.65)
	}
	a.shirt = pick(r, shirts)
	if p.Sex == "F" {
		a.hairStyle = []int{hairLong, hairLong, hairBun, hairSidePart}[r.IntN(4)]
	} else {
		a.hairStyle = []int{hairShort, hairShort, hairSidePart, hairReceding}[r.IntN(4)]
		if p.Age(p.IssueDate) < 40 && a.hairStyle == hairReceding {
			a.hairStyle = hairShort
		}
	}
	a.glasses = r.IntN(5) == 0
	a.mole = strings.Contains(strings.ToLower(p.Features), "nốt ruồi")
	a.faceW = 0.9 + r.Float64()*0.2
	a.eyeGap = 0.36 + r.Float64()*0.08
	a.browArch = 0.6 + r.Float64()*0.8
	a.lipFull = 0.8 + r.Float64()*0.5
	return a
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// pose varies one photo of a face: selfies differ a little from each other and from the card.
type pose struct {
	dx, dy float64 // head offset as a fraction of the head width
	smile  float64 // 0 neutral … 1 broad
	look   float64 // iris offset, −1 … 1
}

// drawPerson draws head and shoulders centred in the box (x, y, w, h) over whatever is already there.
func (c *canvas) drawPerson(a appearance, ps pose, x, y, w, h float64) {
	c.clip = image.Rect(int(x), int(y), int(x+w), int(y+h))
	defer func() { c.clip = image.Rectangle{} }()
	hw := w * 0.25 * a.faceW // half head width
	hh := hw * 1.32
	cx := x + w/2 + ps.dx*hw
	cy := y + h*0.43 + ps.dy*hw
	skinDark := shade(a.skin, 0.86)

	if a.hairStyle == hairLong {
		var p path
		p.moveTo(cx-hw*1.2, cy+hh*1.25)
		p.cubeTo(cx-hw*1.45, cy-hh*0.2, cx-hw*1.3, cy-hh*1.25, cx, cy-hh*1.22)
		p.cubeTo(cx+hw*1.3, cy-hh*1.25, cx+hw*1.45, cy-hh*0.2, cx+hw*1.2, cy+hh*1.25)
		p.close()
		c.fill(&p, shade(a.hair, 0.9))
	}

	// Shoulders and shirt.
	{
		var p path
		bot := y + h + 2
		p.moveTo(cx-hw*2.6, bot)
		p.cubeTo(cx-hw*2.5, cy+hh*1.45, cx-hw*1.6, cy+hh*1.3, cx-hw*0.55, cy+hh*1.18)
		p.lineTo(cx+hw*0.55, cy+hh*1.18)
		p.cubeTo(cx+hw*1.6, cy+hh*1.3, cx+hw*2.5, cy+hh*1.45, cx+hw*2.6, bot)
		p.close()
		c.fill(&p, a.shirt)
	}
	// Neck, then the open collar over it.
	{
		var p path
		p.moveTo(cx-hw*0.42, cy+hh*0.55)
		p.lineTo(cx+hw*0.42, cy+hh*0.55)
		p.lineTo(cx+hw*0.48, cy+hh*1.22)
		p.quadTo(cx, cy+hh*1.55, cx-hw*0.48, cy+hh*1.22)
		p.close()
		c.fill(&p, skinDark)
		var q path
		q.polygon([][2]float64{{cx - hw*0.5, cy + hh*1.16}, {cx, cy + hh*1.5}, {cx - hw*0.15, cy + hh*1.62}, {cx - hw*0.75, cy + hh*1.3}})
		c.fill(&q, shade(a.shirt, 0.85))
		var r path
		r.polygon([][2]float64{{cx + hw*0.5, cy + hh*1.16}, {cx, cy + hh*1.5}, {cx + hw*0.15, cy + hh*1.62}, {cx + hw*0.75, cy + hh*1.3}})
		c.fill(&r, shade(a.shirt, 0.85))
	}
	// Ears.
	c.ellipse(cx-hw*0.97, cy+hh*0.05, hw*0.15, hh*0.17, skinDark)
	c.ellipse(cx+hw*0.97, cy+hh*0.05, hw*0.15, hh*0.17, skinDark)

	// Head: an egg, wider at the temples than at the chin.
	{
		var p path
		p.moveTo(cx, cy-hh)
		p.cubeTo(cx+hw*0.62, cy-hh, cx+hw, cy-hh*0.55, cx+hw, cy)
		p.cubeTo(cx+hw, cy+hh*0.55, cx+hw*0.5, cy+hh, cx, cy+hh)
		p.cubeTo(cx-hw*0.5, cy+hh, cx-hw, cy+hh*0.55, cx-hw, cy)
		p.cubeTo(cx-hw, cy-hh*0.55, cx-hw*0.62, cy-hh, cx, cy-hh)
		p.close()
		c.fill(&p, a.skin)
		// A soft shadow along the jaw gives the flat shape some depth.
		c.ellipse(cx, cy+hh*0.86, hw*0.42, hh*0.08, rgba(a.skin.R/2, a.skin.G/3, a.skin.B/3, 14))
		c.ellipse(cx-hw*0.55, cy+hh*0.38, hw*0.2, hh*0.1, rgba(220, 90, 90, 30))
		c.ellipse(cx+hw*0.55, cy+hh*0.38, hw*0.2, hh*0.1, rgba(220, 90, 90, 30))
	}

	c.drawHair(a, cx, cy, hw, hh)

	// Eyes, brows, nose, mouth.
	ey := cy - hh*0.02
	for _, side := range []float64{-1, 1} {
		ex := cx + side*hw*a.eyeGap
		c.ellipse(ex, ey, hw*0.17, hh*0.062, rgb(250, 248, 244))
		ix := ex + ps.look*hw*0.05
		c.ellipse(ix, ey, hh*0.058, hh*0.058, a.iris)
		c.ellipse(ix, ey, hh*0.026, hh*0.026, rgb(15, 12, 12))
		c.ellipse(ix+hh*0.018, ey-hh*0.02, hh*0.011, hh*0.011, rgb(255, 255, 255))
		c.stroke(arc(ex, ey+hh*0.01, hw*0.18, hh*0.075, 3.5, 5.95, 10), hw*0.035, rgb(40, 30, 28))
		brow := curve([2]float64{ex - side*hw*0.2, ey - hh*0.14},
			[2]float64{ex, ey - hh*(0.16+0.06*a.browArch)},
			[2]float64{ex + side*hw*0.22, ey - hh*0.15}, 8)
		c.stroke(brow, hw*0.065, shade(a.hair, 0.8))
	}
	nose := shade(a.skin, 0.8)
	c.stroke(curve([2]float64{cx - hw*0.06, ey + hh*0.06}, [2]float64{cx - hw*0.1, cy + hh*0.2}, [2]float64{cx - hw*0.13, cy + hh*0.3}, 8), hw*0.03, nose)
	c.stroke(curve([2]float64{cx - hw*0.17, cy + hh*0.31}, [2]float64{cx, cy + hh*0.39}, [2]float64{cx + hw*0.17, cy + hh*0.31}, 8), hw*0.035, nose)
	c.ellipse(cx-hw*0.08, cy+hh*0.33, hw*0.04, hh*0.018, shade(a.skin, 0.62))
	c.ellipse(cx+hw*0.08, cy+hh*0.33, hw*0.04, hh*0.018, shade(a.skin, 0.62))
	{
		my := cy + hh*0.56
		mw := hw * (0.3 + 0.06*ps.smile)
		lip := mix(a.skin, rgb(190, 70, 75), 0.55)
		var p path
		p.moveTo(cx-mw, my-hh*0.02*ps.smile)
		p.quadTo(cx-mw*0.4, my-hh*0.06*a.lipFull, cx, my-hh*0.035*a.lipFull)
		p.quadTo(cx+mw*0.4, my-hh*0.06*a.lipFull, cx+mw, my-hh*0.02*ps.smile)
		p.quadTo(cx, my+hh*(0.07+0.07*ps.smile)*a.lipFull, cx-mw, my-hh*0.02*ps.smile)
		p.close()
		c.fill(&p, lip)
		c.stroke(curve([2]float64{cx - mw, my - hh*0.02*ps.smile}, [2]float64{cx, my + hh*0.03*ps.smile}, [2]float64{cx + mw, my - hh*0.02*ps.smile}, 8), hw*0.02, shade(lip, 0.6))
	}
	if a.mole {
		c.ellipse(cx-hw*a.eyeGap-hw*0.16, ey+hh*0.16, hw*0.025, hw*0.025, rgb(70, 45, 35))
	}
	if a.glasses {
		frame := rgb(30, 30, 35)
		for _, side := range []float64{-1, 1} {
			ex := cx + side*hw*a.eyeGap
			var q path
			q.roundRect(ex-hw*0.24, ey-hh*0.1, ex+hw*0.24, ey+hh*0.1, hw*0.06)
			c.stroke(rectOutline(ex-hw*0.26, ey-hh*0.11, ex+hw*0.26, ey+hh*0.11), hw*0.03, frame)
			c.fill(&q, rgba(200, 220, 255, 30))
		}
		c.stroke(curve([2]float64{cx - hw*(a.eyeGap-0.26), ey - hh*0.04}, [2]float64{cx, ey - hh*0.09}, [2]float64{cx + hw*(a.eyeGap-0.26), ey - hh*0.04}, 6), hw*0.03, frame)
	}
}

func rectOutline(x0, y0, x1, y1 float64) [][2]float64 {
	return [][2]float64{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

func (c *canvas) drawHair(a appearance, cx, cy, hw, hh float64) {
	var p path
	switch a.hairStyle {
	case hairReceding:
		// Hair at the sides and back only, thin on top.
		p.moveTo(cx-hw*1.02, cy+hh*0.02)
		p.cubeTo(cx-hw*1.08, cy-hh*0.7, cx-hw*0.6, cy-hh*1.06, cx, cy-hh*1.04)
		p.cubeTo(cx+hw*0.6, cy-hh*1.06, cx+hw*1.08, cy-hh*0.7, cx+hw*1.02, cy+hh*0.02)
		p.lineTo(cx+hw*0.9, cy-hh*0.35)
		p.cubeTo(cx+hw*0.7, cy-hh*0.75, cx-hw*0.7, cy-hh*0.75, cx-hw*0.9, cy-hh*0.35)
		p.close()
		c.fill(&p, a.hair)
		c.ellipse(cx, cy-hh*0.82, hw*0.6, hh*0.18, rgba(a.hair.R, a.hair.G, a.hair.B, 70))
		return
	case hairSidePart:
		p.moveTo(cx-hw*1.04, cy+hh*0.05)
		p.cubeTo(cx-hw*1.15, cy-hh*0.9, cx-hw*0.55, cy-hh*1.2, cx+hw*0.1, cy-hh*1.14)
		p.cubeTo(cx+hw*0.8, cy-hh*1.1, cx+hw*1.12, cy-hh*0.7, cx+hw*1.04, cy+hh*0.05)
		p.lineTo(cx+hw*0.92, cy-hh*0.3)
		p.cubeTo(cx+hw*0.7, cy-hh*0.62, cx+hw*0.1, cy-hh*0.72, cx-hw*0.35, cy-hh*0.86)
		p.cubeTo(cx-hw*0.6, cy-hh*0.6, cx-hw*0.85, cy-hh*0.4, cx-hw*0.92, cy-hh*0.1)
		p.close()
	default: // short, long and bun share the cap; long hair's back was drawn before the head
		p.moveTo(cx-hw*1.05, cy+hh*0.02)
		p.cubeTo(cx-hw*1.15, cy-hh*0.95, cx-hw*0.5, cy-hh*1.22, cx, cy-hh*1.18)
		p.cubeTo(cx+hw*0.5, cy-hh*1.22, cx+hw*1.15, cy-hh*0.95, cx+hw*1.05, cy+hh*0.02)
		p.lineTo(cx+hw*0.93, cy-hh*0.25)
		p.cubeTo(cx+hw*0.75, cy-hh*0.5, cx+hw*0.35, cy-hh*0.55, cx+hw*0.05, cy-hh*0.6)
		p.cubeTo(cx-hw*0.35, cy-hh*0.52, cx-hw*0.75, cy-hh*0.5, cx-hw*0.93, cy-hh*0.25)
		p.close()
	}
	c.fill(&p, a.hair)
	if a.hairStyle == hairBun {
		c.ellipse(cx, cy-hh*1.2, hw*0.42, hh*0.26, a.hair)
	}
	// A highlight so dark hair does not read as a flat hole.
	c.stroke(arc(cx, cy-hh*0.35, hw*0.75, hh*0.68, 3.6, 4.4, 8), hw*0.05, rgba(255, 255, 255, 28))
}
