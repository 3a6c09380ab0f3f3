//! Pages that are no document of the catalog, as they turn up in a scanner's feed: a
//! newspaper page, an advertisement, a personal letter, an invoice, a restaurant menu,
//! blank paper. The classifier must answer `unknown` for them.

use super::{Line, Rng};

/// What an out-of-scope page holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unrelated {
    News,
    Advertisement,
    Letter,
    /// A VAT invoice ("HÓA ĐƠN", whose last word is a form word).
    Invoice,
    /// A restaurant menu ("THỰC ĐƠN").
    Menu,
    /// Blank paper, or a page that only says it is left blank; scanner noise either way.
    Blank,
}

impl Unrelated {
    pub const ALL: [Unrelated; 6] =
        [Unrelated::News, Unrelated::Advertisement, Unrelated::Letter, Unrelated::Invoice, Unrelated::Menu, Unrelated::Blank];

    pub fn name(self) -> &'static str {
        match self {
            Unrelated::News => "news",
            Unrelated::Advertisement => "advertisement",
            Unrelated::Letter => "letter",
            Unrelated::Invoice => "invoice",
            Unrelated::Menu => "menu",
            Unrelated::Blank => "blank",
        }
    }
}

const MASTHEADS: [&str; 3] = ["BÁO TIN TỨC HẰNG NGÀY", "THỜI SỰ ĐỊA PHƯƠNG", "BẢN TIN KINH TẾ"];
const HEADLINES: [&str; 6] = [
    "Giá lúa tại Đồng bằng sông Cửu Long tăng nhẹ",
    "Hà Nội khởi công tuyến đường vành đai mới",
    "Đội tuyển bóng đá nữ giành chiến thắng thuyết phục",
    "Các điểm du lịch biển đón lượng khách lớn dịp hè",
    "Nắng nóng kéo dài tại các tỉnh miền Trung",
    "Thị trường chứng khoán khởi sắc cuối tuần",
];
const NEWS: [&str; 14] = [
    "Theo các doanh nghiệp xuất khẩu, giá lúa tươi tại ruộng đã tăng thêm khoảng hai trăm đồng mỗi ký so với tuần trước.",
    "Nhiều nông dân cho biết vụ mùa năm nay thuận lợi, năng suất đạt trên sáu tấn mỗi héc-ta.",
    "Dự án dài hơn mười hai ki-lô-mét, đi qua bốn quận, huyện và dự kiến hoàn thành sau ba năm thi công.",
    "Lãnh đạo thành phố yêu cầu các nhà thầu bảo đảm an toàn giao thông và giữ gìn vệ sinh môi trường.",
    "Trận đấu diễn ra sôi nổi ngay từ những phút đầu tiên với nhiều pha tấn công đẹp mắt.",
    "Huấn luyện viên trưởng đánh giá cao tinh thần thi đấu của các cầu thủ trẻ.",
    "Các khách sạn ven biển cho biết công suất phòng những ngày cuối tuần gần như kín chỗ.",
    "Ngành du lịch khuyên du khách nên đặt phòng sớm và chọn những cơ sở lưu trú có uy tín.",
    "Cơ quan khí tượng dự báo nhiệt độ cao nhất trong ngày có nơi trên ba mươi tám độ.",
    "Người dân được khuyên hạn chế ra ngoài vào buổi trưa và uống đủ nước mỗi ngày.",
    "Ngành y tế đề nghị các bệnh viện chuẩn bị sẵn phương án tiếp nhận người bệnh trong mùa nắng nóng.",
    "Phiên giao dịch hôm qua ghi nhận thanh khoản tăng mạnh ở nhóm cổ phiếu ngân hàng và bất động sản.",
    "Chỉ số giá tiêu dùng tháng này tăng nhẹ so với tháng trước, chủ yếu do giá xăng dầu và thực phẩm.",
    "Các chuyên gia cho rằng nhà đầu tư cá nhân cần thận trọng trước những biến động ngắn hạn.",
];
const OFFERS: [&str; 4] =
    ["KHAI TRƯƠNG CỬA HÀNG MỚI", "GIẢM GIÁ ĐẾN 50% TOÀN BỘ SẢN PHẨM", "TUYỂN NHÂN VIÊN BÁN HÀNG", "CHO THUÊ NHÀ MẶT PHỐ"];
const ADVERTISING: [&str; 10] = [
    "Ưu đãi áp dụng từ ngày mùng một đến hết ngày mười lăm hằng tháng.",
    "Miễn phí giao hàng trong nội thành cho đơn hàng từ năm trăm nghìn đồng.",
    "Sản phẩm chính hãng, bảo hành mười hai tháng, đổi trả trong bảy ngày.",
    "Yêu cầu: nhanh nhẹn, trung thực, có thể làm việc theo ca.",
    "Thu nhập từ tám đến mười hai triệu đồng mỗi tháng, thưởng theo doanh số.",
    "Nhà rộng tám mươi mét vuông, ba tầng, hợp kinh doanh hoặc làm văn phòng.",
    "Liên hệ chính chủ, miễn trung gian, xem nhà vào tất cả các ngày trong tuần.",
    "Mở cửa từ bảy giờ sáng đến mười giờ tối, kể cả thứ Bảy và Chủ nhật.",
    "Tặng ngay một phần quà xinh xắn cho một trăm khách hàng đầu tiên.",
    "Quét mã trên tờ rơi để nhận thêm phiếu mua hàng trị giá một trăm nghìn đồng.",
];
const STREETS: [&str; 4] =
    ["phố Huế, quận Hai Bà Trưng, Hà Nội", "đường Trần Phú, thành phố Nha Trang", "đường Lê Lợi, Quận 1", "phố Hàng Bạc, quận Hoàn Kiếm"];
const GREETINGS: [&str; 4] = ["Mẹ kính yêu!", "Anh Hùng thân mến!", "Gửi bạn Lan,", "Bố mẹ kính mến!"];
const LETTER: [&str; 10] = [
    "Đã lâu rồi con không viết thư về nhà, mong bố mẹ và cả nhà vẫn khỏe.",
    "Công việc của con ở thành phố vẫn ổn, cuối tháng này con được nghỉ phép vài ngày.",
    "Con định về quê thăm ông bà và phụ bố sửa lại mái hiên trước nhà.",
    "Mùa này ở quê chắc đã bắt đầu gặt lúa, mẹ nhớ giữ gìn sức khỏe nhé.",
    "Em Mai đã thi xong học kỳ, kết quả khá tốt nên cả nhà ai cũng vui.",
    "Tết năm nay con sẽ cố gắng về sớm để cùng cả nhà gói bánh chưng.",
    "Hôm trước mình có gặp lại mấy người bạn cũ, ai cũng hỏi thăm cậu.",
    "Thành phố dạo này mưa nhiều, đường phố lúc nào cũng đông đúc và ồn ào.",
    "Mình gửi kèm theo thư mấy tấm ảnh chụp hôm đi chơi hồ Tây.",
    "Khi nào có dịp vào Nam thì nhớ ghé chơi, nhà mình lúc nào cũng có chỗ.",
];
const SIGN_OFFS: [&str; 3] = ["Con của bố mẹ", "Thương nhiều,", "Bạn của cậu"];
const CITIES: [&str; 4] = ["Hà Nội", "Đà Nẵng", "Huế", "Cần Thơ"];
const GOODS: [&str; 8] = [
    "Giấy in A4 Double A",
    "Mực in máy HP 12A",
    "Bút bi Thiên Long",
    "Kẹp tài liệu loại lớn",
    "Bìa hồ sơ nhựa",
    "Sổ tay bìa da",
    "Ghim bấm số 10",
    "Băng keo trong 5 cm",
];
const DISHES: [&str; 10] = [
    "Phở bò tái chín",
    "Bún chả Hà Nội",
    "Cơm rang dưa bò",
    "Nem rán",
    "Gỏi cuốn tôm thịt",
    "Canh chua cá lóc",
    "Gà luộc lá chanh",
    "Rau muống xào tỏi",
    "Chè đậu xanh",
    "Trà đá",
];

/// The printed lines of an out-of-scope page.
pub fn lines(kind: Unrelated, rng: &mut Rng) -> Vec<Line> {
    match kind {
        Unrelated::News => {
            let mut lines = vec![Line::header(rng.pick::<&str>(&MASTHEADS)), Line::title(rng.pick::<&str>(&HEADLINES))];
            lines.push(Line::body(&format!(
                "{}, {:02}/{:02}/{}",
                rng.pick(&CITIES),
                1 + rng.below(28),
                1 + rng.below(12),
                2020 + rng.below(6)
            )));
            let sentences = pick_some(&NEWS, 11, rng);
            lines.extend(paragraph(&sentences[..7]));
            lines.extend(paragraph(&sentences[7..]));
            lines
        }
        Unrelated::Advertisement => {
            let mut lines = vec![Line::title(rng.pick::<&str>(&OFFERS))];
            lines.extend(paragraph(&pick_some(&ADVERTISING, 5, rng)));
            lines.push(Line::body(&format!("Địa chỉ: số {} {}", 1 + rng.below(200), rng.pick(&STREETS))));
            lines.push(Line::body(&format!("Điện thoại: 09{} {:03} {:03}", rng.below(10), rng.below(1000), rng.below(1000))));
            lines
        }
        Unrelated::Letter => {
            let when =
                format!("{}, ngày {} tháng {} năm {}", rng.pick(&CITIES), 1 + rng.below(28), 1 + rng.below(12), 2015 + rng.below(10));
            let mut lines = vec![Line::body(&when), Line::body(rng.pick::<&str>(&GREETINGS))];
            lines.extend(paragraph(&pick_some(&LETTER, 6, rng)));
            lines.push(Line::body(rng.pick::<&str>(&SIGN_OFFS)));
            lines.push(Line::body(&super::name(rng)));
            lines
        }
        Unrelated::Invoice => {
            let mut lines = vec![
                Line::header("CÔNG TY TNHH VĂN PHÒNG PHẨM HỒNG HÀ"),
                Line::body(&format!("Mã số thuế: 0{}", 100_000_000 + rng.below(899_999_999))),
                Line::title("HÓA ĐƠN GIÁ TRỊ GIA TĂNG"),
                Line::body(&format!("Ngày {} tháng {} năm {}", 1 + rng.below(28), 1 + rng.below(12), 2020 + rng.below(6))),
                Line::body(&format!("Ký hiệu: 1C2{}TAA Số: {:07}", 2 + rng.below(4), rng.below(10_000_000))),
                Line::body(&format!("Họ tên người mua hàng: {}", super::name(rng))),
                Line::body(&format!("Địa chỉ: số {} {}", 1 + rng.below(200), rng.pick(&STREETS))),
                Line::body("STT Tên hàng hóa, dịch vụ Đơn vị tính Số lượng Đơn giá Thành tiền"),
            ];
            let mut total = 0;
            for (i, item) in pick_some(&GOODS, 4, rng).iter().enumerate() {
                let (n, price) = (1 + rng.below(20), 5_000 * (1 + rng.below(40)));
                total += n * price;
                lines.push(Line::body(&format!("{} {item} cái {n} {price} {}", i + 1, n * price)));
            }
            lines.push(Line::body(&format!("Cộng tiền hàng: {total} đồng")));
            lines.push(Line::body("Thuế suất GTGT: 10%"));
            lines.push(Line::body("Người mua hàng Người bán hàng"));
            lines
        }
        Unrelated::Menu => {
            let mut lines = vec![Line::header("QUÁN ĂN GIA ĐÌNH"), Line::title("THỰC ĐƠN"), Line::body("Món chính")];
            for dish in pick_some(&DISHES, 8, rng) {
                lines.push(Line::body(&format!("{dish} {}.000 đ", 15 + 5 * rng.below(12))));
            }
            lines.push(Line::body(&format!("Đặt bàn: 09{} {:03} {:03}", rng.below(10), rng.below(1000), rng.below(1000))));
            lines
        }
        Unrelated::Blank if rng.below(2) == 0 => vec![Line::body("Trang này để trống.")],
        Unrelated::Blank => Vec::new(),
    }
}

/// `n` different sentences of `pool`, in an order of the seed's choosing.
fn pick_some(pool: &[&str], n: usize, rng: &mut Rng) -> Vec<String> {
    let mut left: Vec<&str> = pool.to_vec();
    let mut out = Vec::new();
    while out.len() < n && !left.is_empty() {
        out.push(left.remove(rng.below(left.len() as u64) as usize).to_owned());
    }
    out
}

/// Sentences set as one paragraph of lines that fit the page's width.
fn paragraph(sentences: &[String]) -> Vec<Line> {
    const WIDTH: usize = 72;
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in sentences.iter().flat_map(|s| s.split_whitespace()) {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > WIDTH {
            lines.push(Line::body(&current));
            current.clear();
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        lines.push(Line::body(&current));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_fit_the_width_and_keep_every_word() {
        let sentences: Vec<String> = NEWS.iter().map(|s| s.to_string()).collect();
        let lines = paragraph(&sentences);
        assert!(lines.iter().all(|l| l.text.chars().count() <= 72));
        let words = |s: &str| s.split_whitespace().count();
        assert_eq!(lines.iter().map(|l| words(&l.text)).sum::<usize>(), NEWS.iter().map(|s| words(s)).sum::<usize>());
    }
}
