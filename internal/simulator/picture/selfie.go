package picture

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/kycdesk/kycdesk/internal/simulator/persona"
)

// Selfie pictures are 480×640 portrait, a front camera's crop.
const (
	SelfieWidth  = 480
	SelfieHeight = 640
)

// SelfieOptions vary a selfie. Variant picks the pose and room (a new session of the same person
// is a new variant); Spoof makes it a photo of a screen: moiré, a phone bezel and glare.
type SelfieOptions struct {
	Variant uint64
	Spoof   bool
}

// Selfie draws p's selfie as a PNG.
func Selfie(p persona.Person) ([]byte, error) { return SelfieWith(p, SelfieOptions{}) }

// SelfieWith draws a selfie of p; a genuine one is a PNG, a spoof a JPEG (a re-captured screen
// has noise that PNG cannot compress), so callers should use the content type that Sniff reports.
func SelfieWith(p persona.Person, o SelfieOptions) ([]byte, error) {
	rooms, err := selfieRooms()
	if err != nil {
		return nil, err
	}
	c, err := newCanvas(SelfieWidth, SelfieHeight)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(o.Variant, 0xface))
	draw.Draw(c.img, c.img.Bounds(), rooms[r.IntN(len(rooms))], image.Point{}, draw.Src)
	ps := pose{dx: r.Float64()*0.3 - 0.15, dy: r.Float64()*0.2 - 0.1, smile: r.Float64(), look: r.Float64()*1.2 - 0.6}
	c.drawPerson(appearanceOf(p), ps, 0, 30, SelfieWidth, SelfieHeight-30)
	var buf bytes.Buffer
	if o.Spoof {
		c.screenCapture(r)
		if err := jpeg.Encode(&buf, c.img, &jpeg.Options{Quality: 78}); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, c.img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Sniff tells the MIME type of picture bytes made here.
func Sniff(b []byte) string {
	if len(b) > 3 && b[0] == 0xFF && b[1] == 0xD8 {
		return "image/jpeg"
	}
	return "image/png"
}

// selfieRooms are a few plain room backgrounds (wall, a door or window edge), built once.
var selfieRooms = sync.OnceValues(func() ([]*image.RGBA, error) {
	walls := [][2]color.NRGBA{
		{rgb(236, 232, 224), rgb(206, 200, 190)},
		{rgb(222, 232, 240), rgb(184, 198, 212)},
		{rgb(240, 230, 214), rgb(214, 196, 170)},
		{rgb(226, 236, 226), rgb(190, 206, 192)},
		{rgb(244, 244, 246), rgb(214, 216, 222)},
	}
	var out []*image.RGBA
	for i, w := range walls {
		c, err := newCanvas(SelfieWidth, SelfieHeight)
		if err != nil {
			return nil, err
		}
		// Vertical gradient only: rows stay uniform, so the PNG filter compresses them to nothing.
		for y := 0; y < SelfieHeight; y++ {
			col := color.RGBA(mix(w[0], w[1], float64(y)/SelfieHeight))
			for x := 0; x < SelfieWidth; x++ {
				c.img.SetRGBA(x, y, col)
			}
		}
		switch i % 3 {
		case 0: // a door frame at the left
			c.rect(30, 60, 130, SelfieHeight, shade(w[1], 0.92))
			c.rect(40, 72, 120, SelfieHeight, shade(w[0], 0.97))
		case 1: // a bright window at the right
			c.rect(330, 40, 470, 300, rgb(246, 250, 255))
			c.rect(396, 40, 404, 300, shade(w[1], 0.9))
			c.rect(330, 166, 470, 174, shade(w[1], 0.9))
		case 2: // a shelf line
			c.rect(0, 180, SelfieWidth, 190, shade(w[1], 0.8))
			c.rect(60, 130, 110, 180, rgb(120, 90, 70))
			c.rect(380, 150, 420, 180, rgb(70, 110, 90))
		}
		out = append(out, c.img)
	}
	return out, nil
})

// screenCapture turns the picture into a photo of a phone screen: a moiré interference pattern,
// RGB sub-pixel striping, a black bezel with a notch and a diagonal glare, the things a liveness
// check (and a reviewer) would notice.
func (c *canvas) screenCapture(r *rand.Rand) {
	b := c.img.Bounds()
	angle := 0.3 + r.Float64()*0.4
	ca, sa := math.Cos(angle), math.Sin(angle)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			fx, fy := float64(x), float64(y)
			m := 1 + 0.16*math.Sin((fx*ca+fy*sa)/3.1)*math.Sin((fx*sa-fy*ca)/47)
			i := c.img.PixOffset(x, y)
			px := c.img.Pix[i : i+3 : i+3]
			for ch := 0; ch < 3; ch++ {
				f := m
				if x%3 == ch {
					f *= 1.08
				}
				px[ch] = uint8(math.Min(255, float64(px[ch])*f*0.94+6))
			}
		}
	}
	// Glare.
	var g path
	g.polygon([][2]float64{{300, 0}, {380, 0}, {80, float64(b.Dy())}, {0, float64(b.Dy())}})
	c.fill(&g, rgba(255, 255, 255, 50))
	// Bezel: everything outside the inner rounded screen is the phone and the hand behind it.
	bezel := rgb(18, 18, 22)
	c.rect(0, 0, b.Dx(), 26, bezel)
	c.rect(0, b.Dy()-34, b.Dx(), b.Dy(), bezel)
	c.rect(0, 0, 22, b.Dy(), bezel)
	c.rect(b.Dx()-22, 0, b.Dx(), b.Dy(), bezel)
	c.roundRect(190, 18, 290, 44, 12, bezel)
	c.ellipse(float64(b.Dx())/2, float64(b.Dy())-17, 30, 4, rgb(60, 60, 66))
}
