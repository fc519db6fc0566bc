package vnid

import (
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestProvinceTable(t *testing.T) {
	if n := len(provinces); n != 63 {
		t.Errorf("%d province codes, want 63", n)
	}
	for code, name := range map[string]string{"001": "Hà Nội", "079": "TP. Hồ Chí Minh", "096": "Cà Mau", "046": "Thừa Thiên Huế"} {
		if got, ok := Province(code); !ok || got != name {
			t.Errorf("Province(%s) = %q %v, want %q", code, got, ok, name)
		}
	}
	for _, code := range []string{"003", "000", "097", "79", ""} {
		if _, ok := Province(code); ok {
			t.Errorf("Province(%q) known", code)
		}
	}
	// Every province named as a 2025 merger target is one this package can find by name.
	for code, into := range mergedInto {
		if _, ok := provinces[code]; !ok {
			t.Errorf("mergedInto has unknown code %s", code)
		}
		if _, ok := byName[stripPrefix(Fold(into))]; !ok {
			t.Errorf("merger target %q of %s names no province", into, code)
		}
	}
	// Every name folds to a distinct key: no two provinces collide.
	if len(byName) < 63 {
		t.Errorf("byName has %d keys for 63 provinces", len(byName))
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"TP. Hồ Chí Minh":                  "tp ho chi minh",
		norm.NFD.String("TP. Hồ Chí Minh"): "tp ho chi minh",
		"HÀ NỘI":                           "ha noi",
		"Hoà Bình":                         "hoa binh", // old tone placement
		"Hòa Bình":                         "hoa binh",
		"ĐẮK LẮK":                          "dak lak",
		"Bà Rịa - Vũng Tàu":                "ba ria vung tau",
		"  ":                               "",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProvinceIn(t *testing.T) {
	tests := []struct {
		place, code string
	}{
		{"PHƯỜNG BẾN NGHÉ, QUẬN 1, TP. HỒ CHÍ MINH", "079"},
		{norm.NFD.String("Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh"), "079"},
		{"Quận 3, TP.HCM", "079"},
		{"Thành phố Hồ Chí Minh", "079"},
		{"Hà Nội", "001"},
		{norm.NFD.String("Hà Nội"), "001"},
		{"Xã Thanh Hà, Hà Nam", "035"}, // not Hà Nội
		{"Xã Hoằng Lộc, Huyện Hoằng Hóa, Tỉnh Thanh Hóa", "038"},
		{"Xã Hoằng Lộc, Huyện Hoằng Hoá, Tỉnh Thanh Hoá", "038"},
		{"Thừa Thiên - Huế", "046"},
		{"Phường Phú Hội, Huế", "046"},
		{"Bà Rịa Vũng Tàu", "077"},
		{"Buôn Ma Thuột, Dak Lak", "066"},
		{"Xã Tân Lập Tỉnh Bắc Cạn", "006"}, // no commas, old spelling
		{"Phường 5 Quận 3 TP Hồ Chí Minh", "079"},
	}
	for _, tt := range tests {
		code, _, ok := ProvinceIn(tt.place)
		if !ok || code != tt.code {
			t.Errorf("ProvinceIn(%q) = %q %v, want %q", tt.place, code, ok, tt.code)
		}
	}
	for _, place := range []string{"", "N/A", "Quận 1", "Sydney, NSW"} {
		if code, _, ok := ProvinceIn(place); ok {
			t.Errorf("ProvinceIn(%q) = %q, want none", place, code)
		}
	}
}

func TestSameProvince(t *testing.T) {
	for _, tt := range []struct {
		code, other  string
		same, merged bool
	}{
		{"079", "079", true, false},
		{"080", "072", true, true},   // Long An became part of Tây Ninh
		{"074", "079", true, true},   // Bình Dương became part of TP. Hồ Chí Minh
		{"072", "080", false, false}, // but Tây Ninh did not become Long An
		{"001", "079", false, false},
	} {
		same, merged := SameProvince(tt.code, tt.other)
		if same != tt.same || merged != tt.merged {
			t.Errorf("SameProvince(%s, %s) = %v %v, want %v %v", tt.code, tt.other, same, merged, tt.same, tt.merged)
		}
	}
}
