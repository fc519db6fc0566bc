// Package picture draws the simulator's document and selfie images: a Vietnamese CCCD (or an
// Australian driver licence) with a drawn portrait, and selfies of the same face, as JPEG/PNG bytes.
package picture

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/kycdesk/kycdesk/internal/simulator/persona"
)

// Card sides.
const (
	Front = "front"
	Back  = "back"
)

// Card pictures are 856×540, the ID-1 aspect ratio (85.6 × 54 mm) at 10 px/mm.
const (
	CardWidth  = 856
	CardHeight = 540
)

// jpegQuality keeps a card near 60–90 KB while small text stays legible.
const jpegQuality = 80

var (
	ink     = rgb(28, 28, 32)
	label   = rgb(60, 64, 72)
	navy    = rgb(22, 44, 100)
	vnRed   = rgb(200, 16, 46)
	gold    = rgb(214, 165, 30)
	tableBG = rgb(196, 199, 204)
)

// IDCard draws side (Front or Back) of p's identity document as a JPEG: a CCCD for a Vietnamese
// person, a driver licence for an Australian.
func IDCard(p persona.Person, side string) ([]byte, error) {
	if side != Front && side != Back {
		return nil, fmt.Errorf("picture: unknown card side %q", side)
	}
	tpl, err := templates()
	if err != nil {
		return nil, err
	}
	key := "vn-" + side
	if p.Country == persona.Australia {
		key = "au-" + side
	}
	c, err := newCanvas(CardWidth, CardHeight)
	if err != nil {
		return nil, err
	}
	// The static artwork (background, emblem, labels) is drawn once; each card copies it.
	draw.Draw(c.img, c.img.Bounds(), tpl[key], image.Point{}, draw.Src)
	switch key {
	case "vn-front":
		c.cccdFront(p)
	case "vn-back":
		c.cccdBack(p)
	case "au-front":
		c.licenceFront(p)
	case "au-back":
		c.licenceBack(p)
	}
	var buf bytes.Buffer
	buf.Grow(96 << 10)
	if err := jpeg.Encode(&buf, c.img, &jpeg.Options{Quality: jpegQuality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func personRand(p persona.Person, salt uint64) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(p.Key()))
	return rand.New(rand.NewPCG(h.Sum64(), salt))
}

// templates are the four card backgrounds with everything that does not depend on the person.
// They are built once and only read afterwards.
var templates = sync.OnceValues(func() (map[string]*image.RGBA, error) {
	out := map[string]*image.RGBA{}
	for _, k := range []string{"vn-front", "vn-back", "au-front", "au-back"} {
		c, err := newCanvas(CardWidth, CardHeight)
		if err != nil {
			return nil, err
		}
		switch k {
		case "vn-front":
			c.cardBackground(rgb(214, 236, 236), rgb(244, 236, 208), rgb(40, 140, 150))
			c.cccdFrontTemplate()
		case "vn-back":
			c.cardBackground(rgb(226, 238, 246), rgb(238, 232, 214), rgb(60, 120, 170))
			c.cccdBackTemplate()
		case "au-front":
			c.cardBackground(rgb(236, 242, 248), rgb(250, 246, 226), rgb(90, 130, 180))
			c.licenceFrontTemplate()
		case "au-back":
			c.cardBackground(rgb(240, 242, 246), rgb(246, 242, 232), rgb(120, 130, 170))
			c.licenceBackTemplate()
		}
		out[k] = c.img
	}
	return out, nil
})

// cardBackground paints a rounded card on a grey table: a diagonal tint gradient with guilloche
// waves and concentric rings, the security print that makes a card read as a card.
func (c *canvas) cardBackground(from, to, line color.NRGBA) {
	const radius = 34.0
	w, h := float64(CardWidth), float64(CardHeight)
	for y := 0; y < CardHeight; y++ {
		for x := 0; x < CardWidth; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			// Outside the rounded corners the table shows.
			dx := math.Max(math.Max(radius-fx, fx-(w-radius)), 0)
			dy := math.Max(math.Max(radius-fy, fy-(h-radius)), 0)
			if dx*dx+dy*dy > radius*radius {
				c.img.SetRGBA(x, y, color.RGBA(tableBG))
				continue
			}
			t := (fx/w*0.6 + fy/h*0.4)
			col := mix(from, to, t)
			c.img.SetRGBA(x, y, color.RGBA(col))
		}
	}
	wave := rgba(line.R, line.G, line.B, 46)
	for i := 0; i < 16; i++ {
		y0 := 30 + float64(i)*32
		pts := make([][2]float64, 0, 90)
		for x := 6.0; x <= w-6; x += 10 {
			pts = append(pts, [2]float64{x, y0 + 9*math.Sin(x/38+float64(i)*0.7) + 5*math.Sin(x/13+float64(i))})
		}
		c.stroke(pts, 1.1, wave)
	}
	ring := rgba(line.R, line.G, line.B, 30)
	for r := 40.0; r < 260; r += 16 {
		c.stroke(arc(w*0.62, h*0.56, r, r*0.92, 0, 2*math.Pi, 72), 1.4, ring)
	}
	for i := 0; i < 24; i++ {
		a := float64(i) * math.Pi / 12
		c.stroke([][2]float64{{w*0.62 + 40*math.Cos(a), h*0.56 + 37*math.Sin(a)}, {w*0.62 + 250*math.Cos(a), h*0.56 + 230*math.Sin(a)}}, 1, ring)
	}
}

// star is a five-pointed star outline centred on (cx, cy).
func star(cx, cy, r float64) *path {
	var p path
	for i := 0; i < 10; i++ {
		rr := r
		if i%2 == 1 {
			rr = r * 0.4
		}
		a := -math.Pi/2 + float64(i)*math.Pi/5
		if i == 0 {
			p.moveTo(cx+rr*math.Cos(a), cy+rr*math.Sin(a))
		} else {
			p.lineTo(cx+rr*math.Cos(a), cy+rr*math.Sin(a))
		}
	}
	p.close()
	return &p
}

// emblem is a stylised national emblem: red disc, gold star, cog and rice-ear ring.
func (c *canvas) emblem(cx, cy, r float64) {
	c.ellipse(cx, cy, r, r, gold)
	c.ellipse(cx, cy, r*0.86, r*0.86, vnRed)
	c.fill(star(cx, cy-r*0.12, r*0.42), rgb(255, 214, 0))
	// Cog at the bottom.
	for i := 0; i < 9; i++ {
		a := math.Pi*0.25 + float64(i)*math.Pi*0.5/8
		c.ellipse(cx+r*0.6*math.Cos(a), cy+r*0.6*math.Sin(a), r*0.09, r*0.09, gold)
	}
	c.ellipse(cx, cy+r*0.55, r*0.3, r*0.14, gold)
	// Rice ears up both sides.
	for _, side := range []float64{-1, 1} {
		for i := 0; i < 7; i++ {
			a := math.Pi/2 + side*(0.5+float64(i)*0.3)
			c.ellipse(cx+r*0.93*math.Cos(a), cy+r*0.93*math.Sin(a), r*0.1, r*0.055, rgb(240, 196, 40))
		}
	}
	c.stroke(arc(cx, cy, r*0.99, r*0.99, 0, 2*math.Pi, 60), 1.5, rgb(150, 100, 10))
}

func (c *canvas) cccdFrontTemplate() {
	c.emblem(102, 88, 62)
	cx := 452.0
	c.centered(bold, 21, cx, 46, ink, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
	c.centered(bold, 17, cx, 70, ink, "Độc lập - Tự do - Hạnh phúc")
	w := c.measure(bold, 17, "Độc lập - Tự do - Hạnh phúc")
	c.stroke([][2]float64{{cx - w/2, 76}, {cx + w/2, 76}}, 1.2, ink)
	c.centered(regular, 13, cx, 96, label, "SOCIALIST REPUBLIC OF VIET NAM")
	c.centered(regular, 12, cx, 113, label, "Independence - Freedom - Happiness")
	c.centered(bold, 34, cx, 154, vnRed, "CĂN CƯỚC CÔNG DÂN")
	c.centered(bold, 15, cx, 176, navy, "Citizen Identity Card")

	c.text(regular, 14, 236, 212, label, "Số / No.:")
	c.text(regular, 14, 236, 242, label, "Họ và tên / Full name:")
	c.text(regular, 14, 236, 302, label, "Ngày sinh / Date of birth:")
	c.text(regular, 14, 236, 332, label, "Giới tính / Sex:")
	c.text(regular, 14, 500, 332, label, "Quốc tịch / Nationality:")
	c.text(regular, 14, 236, 362, label, "Quê quán / Place of origin:")
	c.text(regular, 14, 236, 420, label, "Nơi thường trú / Place of residence:")
	c.text(regular, 12, 40, 430, label, "Có giá trị đến:")
	c.text(regular, 11, 40, 446, label, "Date of expiry")
}

func (c *canvas) cccdFront(p persona.Person) {
	a := appearanceOf(p)
	// Portrait on the pale blue of an official ID photo, with a thin frame.
	c.roundRect(38, 190, 212, 410, 4, rgb(208, 222, 238))
	c.photoBackdrop(40, 192, 170, 216, rgb(226, 236, 248), rgb(200, 216, 236))
	c.drawPerson(a, pose{}, 40, 192, 170, 216)
	c.qrCode(p, 736, 28, 100)

	c.text(bold, 27, 330, 214, ink, p.IDNumber)
	c.fitText(bold, 24, 236, 274, 590, ink, persona.Upper(p.FullName()))
	c.text(bold, 18, 430, 302, ink, p.DOB.Format("02/01/2006"))
	c.text(bold, 18, 372, 332, ink, p.SexVi())
	c.text(bold, 18, 676, 332, ink, "Việt Nam")
	c.fitText(bold, 18, 236, 390, 590, ink, p.Origin.Line())
	line := p.Address.Line()
	first, rest := splitAt(c, line, 18, 590-c.measure(regular, 14, "Nơi thường trú / Place of residence: "))
	c.text(bold, 18, 236+c.measure(regular, 14, "Nơi thường trú / Place of residence: "), 420, ink, first)
	if rest != "" {
		c.fitText(bold, 18, 236, 448, 590, ink, rest)
	}
	c.text(bold, 17, 40, 470, ink, p.Expiry.Format("02/01/2006"))
}

// splitAt breaks s at a comma so the first part fits in maxW at size (bold).
func splitAt(c *canvas, s string, size, maxW float64) (string, string) {
	if c.measure(bold, size, s) <= maxW {
		return s, ""
	}
	parts := strings.Split(s, ", ")
	for i := len(parts) - 1; i > 0; i-- {
		head := strings.Join(parts[:i], ", ") + ","
		if c.measure(bold, size, head) <= maxW {
			return head, strings.Join(parts[i:], ", ")
		}
	}
	return "", s
}

func (c *canvas) photoBackdrop(x, y, w, h float64, top, bottom color.NRGBA) {
	for yy := int(y); yy < int(y+h); yy++ {
		col := color.RGBA(mix(top, bottom, (float64(yy)-y)/h))
		for xx := int(x); xx < int(x+w); xx++ {
			c.img.SetRGBA(xx, yy, col)
		}
	}
}

// qrCode draws a QR-looking block (finder patterns and person-derived modules); it is not decodable.
func (c *canvas) qrCode(p persona.Person, x, y, size float64) {
	const n = 25
	m := size / n
	c.rect(int(x-4), int(y-4), int(x+size+4), int(y+size+4), rgb(255, 255, 255))
	r := personRand(p, 7)
	dark := rgb(20, 20, 20)
	finder := func(fx, fy int) bool {
		for _, o := range [][2]int{{0, 0}, {n - 7, 0}, {0, n - 7}} {
			if fx >= o[0] && fx < o[0]+7 && fy >= o[1] && fy < o[1]+7 {
				dx, dy := fx-o[0], fy-o[1]
				ring := dx == 0 || dx == 6 || dy == 0 || dy == 6
				core := dx >= 2 && dx <= 4 && dy >= 2 && dy <= 4
				return ring || core
			}
		}
		return false
	}
	inFinder := func(fx, fy int) bool {
		for _, o := range [][2]int{{0, 0}, {n - 7, 0}, {0, n - 7}} {
			if fx >= o[0]-1 && fx < o[0]+8 && fy >= o[1]-1 && fy < o[1]+8 {
				return true
			}
		}
		return false
	}
	for fy := 0; fy < n; fy++ {
		for fx := 0; fx < n; fx++ {
			on := finder(fx, fy)
			if !inFinder(fx, fy) {
				on = r.IntN(2) == 0
			}
			if on {
				c.rect(int(x+float64(fx)*m), int(y+float64(fy)*m), int(x+float64(fx+1)*m+0.5), int(y+float64(fy+1)*m+0.5), dark)
			}
		}
	}
}

func (c *canvas) cccdBackTemplate() {
	c.text(regular, 14, 40, 52, label, "Đặc điểm nhân dạng / Personal identification:")
	c.text(regular, 14, 40, 120, label, "Ngày, tháng, năm / Date, month, year:")
	c.centered(bold, 14, 215, 166, ink, "CỤC TRƯỞNG CỤC CẢNH SÁT")
	c.centered(bold, 14, 215, 186, ink, "QUẢN LÝ HÀNH CHÍNH VỀ TRẬT TỰ XÃ HỘI")
	c.centered(regular, 11, 215, 202, label, "DIRECTOR GENERAL OF THE POLICE DEPARTMENT")
	c.centered(regular, 11, 215, 216, label, "FOR ADMINISTRATIVE MANAGEMENT OF SOCIAL ORDER")
	// Official's stamp and signature: invented, like everything on the card.
	c.stroke(arc(170, 268, 46, 46, 0, 2*math.Pi, 60), 3, rgba(210, 30, 40, 190))
	c.stroke(arc(170, 268, 36, 36, 0, 2*math.Pi, 50), 1.5, rgba(210, 30, 40, 170))
	c.fill(star(170, 268, 16), rgba(210, 30, 40, 190))
	c.stroke(curve([2]float64{190, 285}, [2]float64{230, 230}, [2]float64{255, 280}, 14), 2.4, rgb(30, 50, 140))
	c.stroke(curve([2]float64{255, 280}, [2]float64{270, 250}, [2]float64{300, 262}, 10), 2.4, rgb(30, 50, 140))
	c.centered(bold, 16, 215, 336, ink, "Lê Minh Quân")

	// Chip.
	c.roundRect(420, 40, 506, 108, 10, rgb(206, 170, 80))
	c.roundRect(426, 46, 500, 102, 8, rgb(226, 194, 110))
	for _, l := range [][4]float64{{426, 64, 500, 64}, {426, 84, 500, 84}, {463, 46, 463, 102}} {
		c.stroke([][2]float64{{l[0], l[1]}, {l[2], l[3]}}, 1.6, rgb(160, 126, 50))
	}
	// Fingerprint boxes.
	for i, lbl := range [][2]string{{"Ngón trỏ trái", "Left index finger"}, {"Ngón trỏ phải", "Right index finger"}} {
		x := 536.0 + float64(i)*156
		c.roundRect(x, 30, x+140, 206, 6, rgb(120, 130, 140))
		c.roundRect(x+2, 32, x+138, 204, 5, rgb(250, 250, 248))
		c.fingerprint(x+70, 118, 50, 72, uint64(i))
		c.centered(regular, 12, x+70, 224, label, lbl[0])
		c.centered(regular, 11, x+70, 240, label, lbl[1])
	}
	// MRZ band.
	c.rect(24, 372, CardWidth-24, 524, rgba(255, 255, 252, 210))
}

// fingerprint draws a loop print: concentric ridges around a core, broken here and there,
// kept inside the oval of a fingertip.
func (c *canvas) fingerprint(cx, cy, rx, ry float64, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 99))
	ridge := rgba(40, 40, 50, 210)
	inside := func(q [2]float64) bool {
		dx, dy := (q[0]-cx)/rx, (q[1]-cy)/ry
		return dx*dx+dy*dy <= 1
	}
	coreX, coreY := cx+rx*0.08, cy-ry*0.05
	for k := 1; k <= 15; k++ {
		f := float64(k) * 5.2
		pts := arc(coreX, coreY+f*0.25, f*0.85, f*1.1, 0, 2*math.Pi, 24+k*4)
		// A gap or two per ridge, as real ridges end and fork.
		gap := r.IntN(len(pts))
		run := make([][2]float64, 0, len(pts))
		for i, q := range pts {
			if !inside(q) || (i >= gap && i < gap+2) {
				c.stroke(run, 2.3, ridge)
				run = run[:0]
				continue
			}
			run = append(run, q)
		}
		c.stroke(run, 2.3, ridge)
	}
}

func (c *canvas) cccdBack(p persona.Person) {
	c.fitText(bold, 17, 40, 80, 470, ink, p.Features)
	c.text(bold, 17, 330, 120, ink, p.IssueDate.Format("02/01/2006"))
	mrz := persona.MRZ(p)
	const size = 35.0
	w := c.measure(mono, size, mrz[0])
	x := (float64(CardWidth) - w) / 2
	for i, l := range mrz {
		c.text(mono, size, x, 412+float64(i)*46, ink, l)
	}
}

func auColour(state string) color.NRGBA {
	switch state {
	case "NSW":
		return rgb(0, 112, 150)
	case "VIC":
		return rgb(20, 40, 110)
	case "QLD":
		return rgb(128, 20, 50)
	case "WA":
		return rgb(190, 120, 0)
	case "SA":
		return rgb(160, 20, 30)
	}
	return rgb(40, 90, 70)
}

func (c *canvas) licenceFrontTemplate() {
	c.text(regular, 13, 260, 290, label, "Licence No.")
	c.text(regular, 13, 540, 290, label, "Card Number")
	c.text(regular, 13, 260, 356, label, "Date of Birth")
	c.text(regular, 13, 540, 356, label, "Licence Expiry")
	c.text(regular, 13, 260, 422, label, "Class")
	c.text(regular, 13, 540, 422, label, "Signature")
	c.stroke(arc(720, 150, 70, 70, 0, 2*math.Pi, 60), 6, rgba(200, 180, 255, 60))
	c.stroke(arc(720, 150, 50, 50, 0, 2*math.Pi, 50), 4, rgba(140, 220, 200, 60))
}

func (c *canvas) licenceFront(p persona.Person) {
	band := auColour(p.Address.Province)
	// The header band is state-coloured, so it is drawn per card over the shared template.
	var hp path
	hp.roundRect(0, 0, CardWidth, 96, 34)
	c.fill(&hp, band)
	c.rect(0, 60, CardWidth, 96, band)
	c.text(bold, 20, 36, 40, rgb(255, 255, 255), persona.AUStateName(p.Address.Province))
	c.text(bold, 30, 36, 80, rgb(255, 255, 255), "DRIVER LICENCE")
	c.text(regular, 14, 700, 80, rgb(230, 240, 250), "AUSTRALIA")

	a := appearanceOf(p)
	c.roundRect(38, 120, 232, 372, 4, rgb(200, 208, 218))
	c.photoBackdrop(40, 122, 190, 248, rgb(232, 236, 240), rgb(206, 212, 222))
	c.drawPerson(a, pose{}, 40, 122, 190, 248)

	c.fitText(bold, 30, 260, 150, 560, ink, persona.Upper(p.FamilyName))
	c.fitText(bold, 22, 260, 182, 560, ink, strings.TrimSpace(p.GivenName+" "+p.MiddleName))
	c.fitText(regular, 18, 260, 222, 560, ink, persona.Upper(p.Address.Street))
	c.fitText(regular, 18, 260, 248, 560, ink, persona.Upper(p.Address.District)+" "+p.Address.Province+" "+p.Address.Postcode)
	c.text(bold, 22, 260, 318, ink, p.IDNumber)
	c.text(bold, 22, 540, 318, ink, p.CardNumber)
	c.text(bold, 20, 260, 384, ink, strings.ToUpper(p.DOB.Format("02 Jan 2006")))
	c.text(bold, 20, 540, 384, ink, strings.ToUpper(p.Expiry.Format("02 Jan 2006")))
	c.text(bold, 22, 260, 450, ink, "C")
	r := personRand(p, 3)
	pts := make([][2]float64, 0, 40)
	for i := 0; i < 40; i++ {
		t := float64(i) / 39
		pts = append(pts, [2]float64{545 + t*220, 470 + 14*math.Sin(t*9+r.Float64()) - 10*t})
	}
	c.stroke(pts, 2.2, rgb(20, 30, 90))
}

func (c *canvas) licenceBackTemplate() {
	c.text(bold, 20, 40, 60, ink, "CONDITIONS")
	c.text(regular, 15, 40, 92, ink, "S — Must wear corrective lenses when driving")
	c.text(regular, 15, 40, 118, ink, "Licence holder must carry this licence when driving")
	c.text(regular, 13, 40, 500, label, "If found, return to any service centre.")
}

func (c *canvas) licenceBack(p persona.Person) {
	c.text(regular, 14, 40, 170, label, "Card Number")
	c.text(bold, 20, 40, 196, ink, p.CardNumber)
	// A barcode strip; decorative only.
	r := personRand(p, 11)
	x := 40.0
	for x < 816 {
		w := 1.5 + float64(r.IntN(4))*1.5
		c.rect(int(x), 250, int(x+w), 380, ink)
		x += w + 1.5 + float64(r.IntN(3))*1.5
	}
	c.text(regular, 14, 40, 420, label, persona.AUStateName(p.Address.Province)+" · "+p.IDNumber)
}
