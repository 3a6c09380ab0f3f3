//! What the layouts of `layout` print: real titles, labels as the offices print them and
//! values, written here rather than read from the catalog, so that the pages are not the
//! classifier's mirror. Application forms carry the titles of the forms the procedures in
//! `policies/` ask for, split between the tuning part and the held-out part.

use super::layout::Content;
use super::{birth_date, citizen_id, date, enterprise_code, name, Rng, PLACES};
use std::collections::BTreeMap;

/// An application form: its title, the subject (the title after its form word) and the
/// labels it asks for.
struct Form {
    title: &'static str,
    subject: &'static str,
    recipient: &'static str,
    labels: &'static [&'static str],
}

const fn form(title: &'static str, subject: &'static str, recipient: &'static str, labels: &'static [&'static str]) -> Form {
    Form { title, subject, recipient, labels }
}

const COMMUNE: &str = "Kính gửi: Ủy ban nhân dân xã Tân Lập";

/// Forms of the tuning part.
const TUNING_FORMS: [Form; 4] = [
    form(
        "TỜ KHAI ĐĂNG KÝ KHAI SINH",
        "ĐĂNG KÝ KHAI SINH",
        COMMUNE,
        &["Họ, chữ đệm, tên người được khai sinh", "Ngày, tháng, năm sinh", "Nơi sinh", "Dân tộc", "Quê quán", "Họ, chữ đệm, tên người mẹ"],
    ),
    form(
        "TỜ KHAI ĐĂNG KÝ KHAI TỬ",
        "ĐĂNG KÝ KHAI TỬ",
        COMMUNE,
        &["Họ, chữ đệm, tên người đã chết", "Đã chết vào lúc", "Nơi chết", "Nguyên nhân chết"],
    ),
    form(
        "ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP XÂY DỰNG",
        "CẤP GIẤY PHÉP XÂY DỰNG",
        "Kính gửi: Ủy ban nhân dân quận Cầu Giấy",
        &["Địa điểm xây dựng", "Thửa đất số", "Tờ bản đồ số", "Diện tích xây dựng", "Chiều cao công trình"],
    ),
    form(
        "TỜ KHAI CẤP GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN",
        "CẤP GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN",
        COMMUNE,
        &["Nơi cư trú", "Tình trạng hôn nhân", "Mục đích sử dụng"],
    ),
];

/// Forms of the held-out part.
const HELD_OUT_FORMS: [Form; 5] = [
    form(
        "TỜ KHAI ĐĂNG KÝ KẾT HÔN",
        "ĐĂNG KÝ KẾT HÔN",
        COMMUNE,
        &["Họ, chữ đệm, tên bên nữ", "Họ, chữ đệm, tên bên nam", "Ngày, tháng, năm sinh", "Dân tộc", "Nơi cư trú"],
    ),
    form(
        "TỜ KHAI CẤP BẢN SAO TRÍCH LỤC HỘ TỊCH",
        "CẤP BẢN SAO TRÍCH LỤC HỘ TỊCH",
        COMMUNE,
        &["Loại việc hộ tịch", "Họ, chữ đệm, tên người được cấp bản sao", "Nơi đăng ký", "Số bản sao yêu cầu"],
    ),
    form(
        "PHIẾU YÊU CẦU CẤP PHIẾU LÝ LỊCH TƯ PHÁP",
        "CẤP PHIẾU LÝ LỊCH TƯ PHÁP",
        "Kính gửi: Sở Tư pháp thành phố Hà Nội",
        &["Nơi thường trú", "Tình trạng án tích", "Mục đích sử dụng phiếu", "Số lượng phiếu yêu cầu cấp"],
    ),
    form(
        "GIẤY ĐỀ NGHỊ ĐĂNG KÝ DOANH NGHIỆP",
        "ĐĂNG KÝ DOANH NGHIỆP",
        "Kính gửi: Phòng Đăng ký kinh doanh tỉnh Bắc Ninh",
        &["Tên công ty viết bằng tiếng Việt", "Địa chỉ trụ sở chính", "Vốn điều lệ", "Người đại diện theo pháp luật"],
    ),
    form(
        "TỜ KHAI YÊU CẦU CẤP PHIẾU LÝ LỊCH TƯ PHÁP",
        "YÊU CẦU CẤP PHIẾU LÝ LỊCH TƯ PHÁP",
        "Kính gửi: Sở Tư pháp tỉnh Nghệ An",
        &["Nơi thường trú", "Mục đích sử dụng phiếu", "Số lượng phiếu yêu cầu cấp"],
    ),
];

/// Labels the issued documents print, by type (the catalog's keywords are not read).
fn labels(doc_type: &str) -> &'static [&'static str] {
    match doc_type {
        "birth_certificate" => {
            &["Giới tính", "Dân tộc", "Quốc tịch", "Nơi sinh", "Quê quán", "Họ, chữ đệm, tên người mẹ", "Họ, chữ đệm, tên người cha"]
        }
        "birth_extract" => &["Giới tính", "Dân tộc", "Nơi sinh", "Họ, chữ đệm, tên người mẹ", "Nơi đăng ký khai sinh", "Ngày đăng ký"],
        "identity_card" => &["Giới tính", "Quốc tịch", "Quê quán", "Nơi thường trú", "Có giá trị đến"],
        "marriage_certificate" => &["Họ, chữ đệm, tên vợ", "Họ, chữ đệm, tên chồng", "Nơi cư trú", "Ngày đăng ký", "Nơi đăng ký kết hôn"],
        "marital_status_certificate" => &["Nơi cư trú", "Tình trạng hôn nhân", "Mục đích sử dụng"],
        "death_extract" => &["Đã chết vào lúc", "Nơi chết", "Nguyên nhân chết", "Nơi đăng ký khai tử"],
        "death_notice" => &["Đã chết vào lúc", "Nơi chết", "Nguyên nhân chết", "Cơ sở y tế"],
        "hospital_birth_notice" => {
            &["Họ và tên mẹ", "Nơi đăng ký thường trú", "Đã sinh con vào lúc", "Giới tính của con", "Cân nặng", "Người đỡ đẻ"]
        }
        "criminal_record_certificate" => &["Nơi sinh", "Quốc tịch", "Nơi thường trú", "Tình trạng án tích"],
        "enterprise_registration" => {
            &["Tên công ty viết bằng tiếng Việt", "Địa chỉ trụ sở chính", "Vốn điều lệ", "Người đại diện theo pháp luật"]
        }
        "land_use_right_certificate" => &["Thửa đất số", "Tờ bản đồ số", "Địa chỉ", "Diện tích", "Mục đích sử dụng", "Thời hạn sử dụng"],
        "construction_permit" => &["Cấp cho", "Địa điểm xây dựng", "Diện tích xây dựng tầng 1", "Chiều cao công trình"],
        "decision" => &["Về việc", "Điều 1", "Điều 2", "Nơi nhận"],
        "company_charter" => &["Tên công ty", "Vốn điều lệ", "Thành viên góp vốn", "Người đại diện theo pháp luật"],
        "member_list" => &["Tên thành viên", "Phần vốn góp", "Tỷ lệ", "Thời hạn góp vốn"],
        "divorce_ruling" => &["Nguyên đơn", "Bị đơn", "Về việc", "Tòa án nhân dân"],
        "design_drawings" => &["Công trình", "Địa điểm xây dựng", "Tỷ lệ", "Chủ nhiệm thiết kế"],
        "certified_copy" => &["Số chứng thực", "Quyển số", "Người thực hiện chứng thực"],
        _ => &["Nội dung", "Nơi cư trú"],
    }
}

/// Body sentences a type prints under its fields.
fn body(doc_type: &str) -> &'static str {
    match doc_type {
        "application_form" => {
            "Tôi cam đoan những nội dung khai trên đây là đúng sự thật và chịu trách nhiệm trước pháp luật về cam đoan của mình."
        }
        "decision" => "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015. Quyết định này có hiệu lực kể từ ngày ký.",
        "birth_extract" | "death_extract" => "Trích lục từ Sổ đăng ký hộ tịch lưu tại Ủy ban nhân dân xã Tân Lập.",
        "certified_copy" => "Chứng thực bản sao đúng với bản chính.",
        "divorce_ruling" => "Công nhận sự thuận tình ly hôn và sự thỏa thuận của các đương sự.",
        "company_charter" => "Chương I. Những quy định chung. Điều lệ này được các thành viên thông qua.",
        _ => "Mọi sửa chữa, tẩy xóa trên giấy tờ này đều không có giá trị pháp lý.",
    }
}

/// The issuing agency, two lines, and the signer's title.
fn agency(doc_type: &str) -> ([&'static str; 2], &'static str) {
    match doc_type {
        "enterprise_registration" => (["SỞ KẾ HOẠCH VÀ ĐẦU TƯ", "PHÒNG ĐĂNG KÝ KINH DOANH"], "TRƯỞNG PHÒNG"),
        "criminal_record_certificate" => (["SỞ TƯ PHÁP", "THÀNH PHỐ HÀ NỘI"], "GIÁM ĐỐC"),
        "divorce_ruling" => (["TÒA ÁN NHÂN DÂN", "QUẬN CẦU GIẤY"], "THẨM PHÁN"),
        "death_notice" | "hospital_birth_notice" => (["SỞ Y TẾ HÀ NỘI", "BỆNH VIỆN ĐA KHOA ĐỨC GIANG"], "GIÁM ĐỐC"),
        "construction_permit" | "land_use_right_certificate" => (["ỦY BAN NHÂN DÂN", "QUẬN CẦU GIẤY"], "CHỦ TỊCH"),
        "company_charter" | "member_list" | "design_drawings" => (["CÔNG TY TNHH AN PHÁT", "BAN GIÁM ĐỐC"], "GIÁM ĐỐC"),
        _ => (["ỦY BAN NHÂN DÂN", "XÃ TÂN LẬP"], "CHỦ TỊCH"),
    }
}

/// A value for a label: a name, a date, a place or a short phrase.
fn value(label: &str, rng: &mut Rng) -> String {
    let l = label.to_lowercase();
    if l.contains("tên") || l.contains("đơn") || l.contains("người đỡ") || l.contains("cấp cho") || l.contains("thành viên") {
        if l.contains("công ty") {
            return "Công ty TNHH An Phát".into();
        }
        return name(rng);
    }
    if l.contains("ngày") || l.contains("lúc") || l.contains("giá trị đến") || l.contains("thời hạn") {
        return date(rng, 1990).0;
    }
    if l.contains("nơi") || l.contains("địa") || l.contains("quê") || l.contains("trụ sở") || l.contains("cơ sở") {
        return rng.pick(&PLACES).to_string();
    }
    let phrases: &[&str] = match l.as_str() {
        l if l.contains("giới tính") => &["Nam", "Nữ"],
        l if l.contains("dân tộc") => &["Kinh", "Tày", "Mường"],
        l if l.contains("quốc tịch") => &["Việt Nam"],
        l if l.contains("vốn") => &["1.500.000.000 đồng", "800.000.000 đồng"],
        l if l.contains("án tích") => &["Không có án tích"],
        l if l.contains("hôn nhân") => &["Chưa đăng ký kết hôn với ai"],
        l if l.contains("mục đích") => &["Bổ sung hồ sơ xin việc", "Đăng ký kết hôn", "Đất ở tại đô thị"],
        l if l.contains("diện tích") => &["120,5 m²", "86 m²", "245 m²"],
        l if l.contains("chiều cao") => &["14,5 m", "11 m"],
        l if l.contains("cân nặng") => &["3.200 gam", "2.900 gam"],
        l if l.contains("tỷ lệ") => &["40%", "1:100"],
        l if l.contains("nguyên nhân") => &["Bệnh già", "Tai nạn giao thông"],
        l if l.contains("loại việc") => &["Khai sinh", "Kết hôn"],
        l if l.contains("về việc") => &["Cấp giấy phép xây dựng", "Công nhận thuận tình ly hôn"],
        l if l.contains("công trình") => &["Nhà ở riêng lẻ", "Nhà ở 4 tầng"],
        l if l.contains("điều") => &["Chấp thuận đề nghị của ông, bà có tên trên.", "Giao Văn phòng tổ chức thực hiện."],
        _ => &["02", "Theo hồ sơ", "Đã kiểm tra"],
    };
    if l.contains("số") && !l.contains("phiếu") {
        return format!("{}", 1 + rng.below(400));
    }
    rng.pick(phrases).to_string()
}

/// How the owner's id is labelled: the usual label in the tuning part, and other labels
/// offices print in the held-out part.
fn id_label(held_out: bool, rng: &mut Rng) -> &'static str {
    if !held_out {
        return "Số định danh cá nhân";
    }
    const LABELS: [&str; 4] = ["Số định danh cá nhân", "Số CCCD", "Số căn cước công dân", "Giấy tờ tùy thân: Căn cước công dân số"];
    LABELS[rng.below(LABELS.len() as u64) as usize]
}

/// A document of `doc_type` as one of the new layouts prints it, with its fields' values
/// (for an application form, `subject` too).
pub fn content(
    catalog: &sohoa_protocol::policy::Catalog,
    doc_type: &str,
    held_out: bool,
    rng: &mut Rng,
) -> (Content, BTreeMap<String, String>) {
    let spec = catalog.doc_types.values().find(|d| d.id.as_str() == doc_type);
    let mut fields = BTreeMap::new();
    let owner = citizen_id(rng);
    let full_name = name(rng);
    let (born, born_iso) = birth_date(rng, &owner);
    let (d, m, y) = (1 + rng.below(28), 1 + rng.below(12), 2020 + rng.below(6));
    let place_date = format!("{}, ngày {d} tháng {m} năm {y}", rng.pick(&["Hà Nội", "Đan Phượng", "Bắc Ninh", "Vinh"]));
    let ([agency1, agency2], signer) = agency(doc_type);
    let mut content = Content {
        agency: [agency1.into(), agency2.into()],
        place_date,
        signer: signer.into(),
        signer_name: name(rng),
        ..Content::default()
    };
    let id_label = id_label(held_out, rng);
    let labels: Vec<&str> = if doc_type == "application_form" {
        let forms: &[Form] = if held_out { &HELD_OUT_FORMS } else { &TUNING_FORMS };
        let f = rng.pick(forms);
        content.title = f.title.into();
        content.recipient = Some(f.recipient.into());
        content.signer = (*rng.pick(&["NGƯỜI YÊU CẦU", "NGƯỜI LÀM ĐƠN", "NGƯỜI KHAI"])).into();
        content.signer_name = full_name.clone();
        content.fields.push(("Họ, chữ đệm, tên người yêu cầu".into(), full_name.clone()));
        content.fields.push((id_label.into(), owner.clone()));
        fields.insert("subject".to_owned(), f.subject.to_owned());
        f.labels.to_vec()
    } else {
        let titles = spec.map(|s| s.titles.clone()).unwrap_or_else(|| vec!["GIẤY XÁC NHẬN".into()]);
        content.title = rng.pick(&titles).clone();
        content.sealed = true;
        let number = format!("{}/{}", 10 + rng.below(990), 2015 + rng.below(11));
        content.number = format!("Số: {number}");
        fields.insert("document_number".to_owned(), number);
        fields.insert("issue_date".to_owned(), format!("{y}-{m:02}-{d:02}"));
        content.fields.push(("Họ và tên".into(), full_name.clone()));
        content.fields.push((id_label.into(), owner.clone()));
        content.fields.push(("Ngày, tháng, năm sinh".into(), born));
        fields.insert("date_of_birth".to_owned(), born_iso);
        labels(doc_type).to_vec()
    };
    if spec.is_some_and(|d| d.fields.contains(&sohoa_protocol::policy::Field::EnterpriseCode)) {
        let code = enterprise_code(rng);
        content.fields.insert(2, ("Mã số doanh nghiệp".into(), code.clone()));
        fields.insert("enterprise_code".to_owned(), code);
    }
    for label in labels {
        let v = value(label, rng);
        content.fields.push((label.to_owned(), v));
    }
    content.body.push(body(doc_type).to_owned());
    fields.insert("owner_id".to_owned(), owner);
    fields.insert("full_name".to_owned(), full_name);
    (content, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_subjects_follow_their_form_words() {
        for f in TUNING_FORMS.iter().chain(&HELD_OUT_FORMS) {
            assert!(f.title.ends_with(f.subject), "{}", f.title);
            assert!(f.title.len() > f.subject.len());
        }
        // the parts share no title
        assert!(TUNING_FORMS.iter().all(|t| HELD_OUT_FORMS.iter().all(|h| h.title != t.title)));
    }
}
