// Package vnid knows Vietnamese identity numbers: the province codes that open a 12-digit
// CCCD number and how place names on a card name those provinces.
package vnid

// provinces are the birth-registration codes that open a CCCD number, 001 Hà Nội … 096 Cà Mau.
//
// Source: the code table of the 63 provinces and centrally run cities in Circular
// 07/2016/TT-BCA (Ministry of Public Security, 1 February 2016), Appendix I, detailing Decree
// 137/2015/ND-CP on the citizen identity card; the codes were carried over unchanged by the
// circulars that replaced it (59/2021/TT-BCA, and 17/2024/TT-BCA under the Identity Law of 2023).
// Numbers already issued keep their code after the province mergers of 1 July 2025 (see
// mergedInto), so the table stays the one to read a number with.
var provinces = map[string]string{
	"001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
	"010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
	"017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
	"025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
	"033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
	"038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
	"046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
	"054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
	"064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
	"072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu", "079": "TP. Hồ Chí Minh",
	"080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long",
	"087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang",
	"094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}

// mergedInto is the province each code's province became part of on 1 July 2025 (Resolution
// 202/2025/QH15: 63 provinces into 34), for the codes whose province was merged or renamed.
// A card issued after the merger names the new province as the place of origin, while the
// number keeps the old code.
var mergedInto = map[string]string{
	"002": "Tuyên Quang", "015": "Lào Cai", "006": "Thái Nguyên", "026": "Phú Thọ", "017": "Phú Thọ",
	"024": "Bắc Ninh", "034": "Hưng Yên", "030": "Hải Phòng", "035": "Ninh Bình", "036": "Ninh Bình",
	"044": "Quảng Trị", "046": "Huế", "049": "Đà Nẵng", "062": "Quảng Ngãi", "052": "Gia Lai",
	"058": "Khánh Hòa", "067": "Lâm Đồng", "060": "Lâm Đồng", "054": "Đắk Lắk", "074": "TP. Hồ Chí Minh",
	"077": "TP. Hồ Chí Minh", "070": "Đồng Nai", "080": "Tây Ninh", "094": "Cần Thơ", "093": "Cần Thơ",
	"083": "Vĩnh Long", "084": "Vĩnh Long", "082": "Đồng Tháp", "095": "Cà Mau", "091": "An Giang",
}

// aliases are other names a card or a person writes for a province (folded, see Fold).
var aliases = map[string]string{
	"ho chi minh": "079", "hcm": "079", "sai gon": "079", "hcmc": "079",
	"ha noi": "001", "hn": "001",
	"bac can": "006", "hue": "046", "thua thien": "046",
	"dak lak": "066", "dac lac": "066", "dak nong": "067", "dac nong": "067",
	"vung tau": "077", "br vt": "077", "brvt": "077",
}

// Province names the province of a CCCD birth-registration code ("079" → "TP. Hồ Chí Minh").
func Province(code string) (name string, ok bool) {
	name, ok = provinces[code]
	return name, ok
}

// MergedInto names the province that code's province became part of in 2025, "" when it
// was neither merged nor renamed.
func MergedInto(code string) string { return mergedInto[code] }
