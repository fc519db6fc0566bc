package persona

// Word lists for invented people. They are read-only after init: no code writes to them.

var vnFamily = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
	"Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Trịnh", "Đinh", "Lương", "Mai"}

var vnMiddleM = []string{"Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Thành", "Xuân", "Đình", "Quốc", "Trọng"}

var vnMiddleF = []string{"Thị", "Ngọc", "Thu", "Thanh", "Kim", "Phương", "Bảo", "Mỹ"}

var vnMiddle2F = []string{"Thu", "Ngọc", "Minh", "Thùy", "Diệu", "Hồng"}

var vnGivenM = []string{"An", "Bảo", "Cường", "Dũng", "Duy", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy", "Khánh",
	"Khoa", "Kiên", "Long", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Thịnh", "Tiến",
	"Toàn", "Trung", "Tuấn", "Việt", "Vinh", "Đạt", "Đức", "Lộc"}

var vnGivenF = []string{"Anh", "Châu", "Chi", "Diệp", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa",
	"Hương", "Huyền", "Lan", "Linh", "Loan", "Mai", "My", "Ngân", "Nhung", "Oanh", "Phượng", "Quỳnh", "Thảo",
	"Trang", "Tuyết", "Uyên", "Vân", "Yến", "Nguyệt", "Ánh"}

var vnEthnicity = []string{"Tày", "Thái", "Mường", "Khmer", "Hoa", "Nùng", "H'Mông"}

var vnReligion = []string{"Phật giáo", "Công giáo", "Cao Đài", "Hòa Hảo", "Tin Lành"}

var vnFeatures = []string{
	"Nốt ruồi C:1cm dưới sau đuôi mắt trái",
	"Nốt ruồi C:2cm trên trước đầu mày phải",
	"Sẹo chấm C:1cm dưới cánh mũi trái",
	"Nốt ruồi C:1,5cm dưới mép phải",
	"Sẹo chấm C:2cm trên đuôi mày trái",
	"Nốt ruồi C:3cm dưới trước dái tai trái",
}

var vnStreets = []string{"Lê Lợi", "Trần Hưng Đạo", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt",
	"Điện Biên Phủ", "Quang Trung", "Nguyễn Trãi", "Lê Duẩn", "Phan Chu Trinh", "Võ Thị Sáu", "Bà Triệu",
	"Nguyễn Thị Minh Khai", "Hùng Vương", "Trường Chinh", "Cách Mạng Tháng Tám", "Đống Đa", "Hàng Bài"}

// vnProvinces carry the province codes of CCCD numbers (Circular 07/2016/TT-BCA) and a few
// district|ward pairs each, so quê quán and nơi thường trú read like real ones.
var vnProvinces = []vnProvince{
	{"001", "Hà Nội", []string{"Quận Hoàn Kiếm|Phường Hàng Bạc", "Quận Ba Đình|Phường Kim Mã", "Quận Đống Đa|Phường Văn Miếu", "Quận Cầu Giấy|Phường Dịch Vọng", "Huyện Gia Lâm|Xã Bát Tràng"}},
	{"031", "TP. Hải Phòng", []string{"Quận Lê Chân|Phường An Biên", "Quận Ngô Quyền|Phường Máy Tơ", "Huyện Thủy Nguyên|Xã Lập Lễ"}},
	{"034", "Thái Bình", []string{"TP. Thái Bình|Phường Lê Hồng Phong", "Huyện Vũ Thư|Xã Song Lãng"}},
	{"036", "Nam Định", []string{"TP. Nam Định|Phường Trần Hưng Đạo", "Huyện Hải Hậu|Xã Hải Đông"}},
	{"038", "Thanh Hóa", []string{"TP. Thanh Hóa|Phường Điện Biên", "Huyện Hoằng Hóa|Xã Hoằng Lộc"}},
	{"040", "Nghệ An", []string{"TP. Vinh|Phường Hưng Bình", "Huyện Nam Đàn|Xã Kim Liên"}},
	{"046", "Thừa Thiên Huế", []string{"TP. Huế|Phường Phú Hội", "TP. Huế|Phường Thuận Thành"}},
	{"048", "TP. Đà Nẵng", []string{"Quận Hải Châu|Phường Thạch Thang", "Quận Sơn Trà|Phường An Hải Bắc", "Quận Ngũ Hành Sơn|Phường Mỹ An"}},
	{"056", "Khánh Hòa", []string{"TP. Nha Trang|Phường Lộc Thọ", "TP. Cam Ranh|Phường Cam Lợi"}},
	{"066", "Đắk Lắk", []string{"TP. Buôn Ma Thuột|Phường Tân Lợi", "Huyện Krông Pắc|Xã Ea Phê"}},
	{"068", "Lâm Đồng", []string{"TP. Đà Lạt|Phường 1", "TP. Bảo Lộc|Phường Lộc Sơn"}},
	{"074", "Bình Dương", []string{"TP. Thủ Dầu Một|Phường Phú Cường", "TP. Dĩ An|Phường Đông Hòa"}},
	{"075", "Đồng Nai", []string{"TP. Biên Hòa|Phường Tân Phong", "Huyện Long Thành|Xã An Phước"}},
	{"079", "TP. Hồ Chí Minh", []string{"Quận 1|Phường Bến Nghé", "Quận 1|Phường Bến Thành", "Quận 3|Phường Võ Thị Sáu", "Quận Bình Thạnh|Phường 25", "TP. Thủ Đức|Phường Thảo Điền", "Quận 5|Phường 11"}},
	{"089", "An Giang", []string{"TP. Long Xuyên|Phường Mỹ Bình", "TP. Châu Đốc|Phường Núi Sam"}},
	{"092", "TP. Cần Thơ", []string{"Quận Ninh Kiều|Phường Tân An", "Quận Cái Răng|Phường Lê Bình"}},
}

var auFamily = []string{"Citizen", "Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "O'Brien",
	"Murphy", "Kelly", "Müller", "Kovačević", "Papadopoulos", "Nowak", "Ó Súilleabháin", "García", "Martín",
	"Lefèvre", "Zhang", "Singh"}

var auGivenM = []string{"Oliver", "Jack", "William", "Noah", "Thomas", "Lachlan", "José", "Seán", "Mateo",
	"Liam", "James", "Zoltán"}

var auGivenF = []string{"Jane", "Charlotte", "Amelia", "Mia", "Isla", "Chloé", "Zoë", "Renée", "Siobhán",
	"Olivia", "Grace", "Noémie"}

var auStreets = []string{"Example St", "George St", "Pitt St", "Collins St", "Bourke St", "Queen St",
	"Hay St", "King William St", "Elizabeth St", "Chapel St", "Smith St", "John St"}

type auSuburb struct{ name, state, postcode string }

var auSuburbs = []auSuburb{
	{"Sydney", "NSW", "2000"}, {"Parramatta", "NSW", "2150"}, {"Cabramatta", "NSW", "2166"},
	{"Melbourne", "VIC", "3000"}, {"Footscray", "VIC", "3011"}, {"Richmond", "VIC", "3121"},
	{"Brisbane City", "QLD", "4000"}, {"Perth", "WA", "6000"}, {"Adelaide", "SA", "5000"},
	{"Hobart", "TAS", "7000"}, {"Canberra", "ACT", "2601"}, {"Darwin", "NT", "0800"},
}

// AUStateName is the full state name an Australian licence prints.
func AUStateName(code string) string {
	switch code {
	case "NSW":
		return "NEW SOUTH WALES"
	case "VIC":
		return "VICTORIA"
	case "QLD":
		return "QUEENSLAND"
	case "WA":
		return "WESTERN AUSTRALIA"
	case "SA":
		return "SOUTH AUSTRALIA"
	case "TAS":
		return "TASMANIA"
	case "ACT":
		return "AUSTRALIAN CAPITAL TERRITORY"
	case "NT":
		return "NORTHERN TERRITORY"
	}
	return code
}
