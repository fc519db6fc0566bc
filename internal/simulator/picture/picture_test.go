package picture

import (
	"bytes"
	"image"
	"image/color"
	_ "image/jpeg"
	_ "image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/simulator/persona"
)

func samplePerson(country string, seed uint64) persona.Person {
	return persona.Generate(rand.New(rand.NewPCG(seed, 1)), country, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
}

func decode(t *testing.T, b []byte, wantFormat string) image.Image {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if format != wantFormat {
		t.Fatalf("format %s, want %s", format, wantFormat)
	}
	return img
}

// inkIn counts dark pixels in r: where text is drawn there must be some.
func inkIn(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
			if c.Y < 110 {
				n++
			}
		}
	}
	return n
}

func TestIDCard(t *testing.T) {
	tests := []struct {
		name    string
		country string
		side    string
		inked   []image.Rectangle // regions that carry text
		blank   image.Rectangle   // a region of plain background
	}{
		{"cccd front", persona.Vietnam, Front, []image.Rectangle{
			image.Rect(160, 25, 740, 55),   // CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
			image.Rect(300, 125, 600, 160), // CĂN CƯỚC CÔNG DÂN
			image.Rect(330, 190, 520, 218), // number
			image.Rect(236, 250, 600, 280), // name
		}, image.Rect(700, 440, 820, 470)},
		{"cccd back", persona.Vietnam, Back, []image.Rectangle{
			image.Rect(100, 380, 760, 420), // MRZ line 1
			image.Rect(100, 470, 760, 510), // MRZ line 3
		}, image.Rect(300, 300, 400, 340)},
		{"licence front", persona.Australia, Front, []image.Rectangle{image.Rect(260, 120, 600, 155)}, image.Rect(320, 425, 520, 470)},
		{"licence back", persona.Australia, Back, []image.Rectangle{image.Rect(40, 40, 200, 65)}, image.Rect(400, 150, 800, 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := samplePerson(tt.country, 7)
			b, err := IDCard(p, tt.side)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > 150<<10 {
				t.Errorf("card is %d KB, want < 150 KB", len(b)>>10)
			}
			img := decode(t, b, "jpeg")
			if got := img.Bounds().Size(); got != image.Pt(CardWidth, CardHeight) {
				t.Fatalf("size %v", got)
			}
			for _, r := range tt.inked {
				if n := inkIn(img, r); n < 80 {
					t.Errorf("region %v has %d dark pixels, want text there", r, n)
				}
			}
			if n := inkIn(img, tt.blank); n > 20 {
				t.Errorf("background region %v has %d dark pixels", tt.blank, n)
			}
			if os.Getenv("SIM_SAMPLES") != "" {
				_ = os.MkdirAll("/tmp/sim-samples", 0o755)
				_ = os.WriteFile(filepath.Join("/tmp/sim-samples", tt.country+"-"+tt.side+".jpg"), b, 0o644)
			}
		})
	}
	if _, err := IDCard(samplePerson(persona.Vietnam, 1), "side"); err == nil {
		t.Error("unknown side accepted")
	}
}

func TestSelfie(t *testing.T) {
	for _, country := range []string{persona.Vietnam, persona.Australia} {
		p := samplePerson(country, 3)
		b, err := Selfie(p)
		if err != nil {
			t.Fatal(err)
		}
		img := decode(t, b, "png")
		if img.Bounds().Size() != image.Pt(SelfieWidth, SelfieHeight) {
			t.Fatalf("size %v", img.Bounds().Size())
		}
		if len(b) > 150<<10 {
			t.Errorf("selfie is %d KB", len(b)>>10)
		}
		// The face sits in the middle: the centre must differ from the wall at the top corner.
		if img.At(240, 300) == img.At(5, 5) {
			t.Error("no face drawn in the centre")
		}
		spoof, err := SelfieWith(p, SelfieOptions{Variant: 9, Spoof: true})
		if err != nil {
			t.Fatal(err)
		}
		simg := decode(t, spoof, "jpeg")
		if Sniff(spoof) != "image/jpeg" || Sniff(b) != "image/png" {
			t.Error("Sniff got the types wrong")
		}
		if len(spoof) > 150<<10 {
			t.Errorf("spoof selfie is %d KB", len(spoof)>>10)
		}
		// The bezel is black.
		if n := inkIn(simg, image.Rect(0, 0, 20, 600)); n < 20*600*9/10 {
			t.Errorf("spoof has no bezel (%d dark pixels)", n)
		}
		if os.Getenv("SIM_SAMPLES") != "" {
			_ = os.WriteFile(filepath.Join("/tmp/sim-samples", country+"-selfie.png"), b, 0o644)
			_ = os.WriteFile(filepath.Join("/tmp/sim-samples", country+"-selfie-spoof.jpg"), spoof, 0o644)
		}
	}
}

func BenchmarkIDCard(b *testing.B) {
	people := make([]persona.Person, 16)
	for i := range people {
		people[i] = samplePerson(persona.Vietnam, uint64(i))
	}
	if _, err := IDCard(people[0], Front); err != nil { // templates are built once, outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	var bytes int
	for i := 0; b.Loop(); i++ {
		out, err := IDCard(people[i%len(people)], Front)
		if err != nil {
			b.Fatal(err)
		}
		bytes += len(out)
	}
	b.ReportMetric(float64(bytes)/float64(b.N)/1024, "KB/card")
}

func BenchmarkSelfie(b *testing.B) {
	p := samplePerson(persona.Vietnam, 1)
	if _, err := Selfie(p); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := SelfieWith(p, SelfieOptions{Variant: uint64(i)}); err != nil {
			b.Fatal(err)
		}
	}
}
