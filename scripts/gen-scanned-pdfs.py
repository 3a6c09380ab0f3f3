#!/usr/bin/env python3
"""Writes tests/vectors/scanned/: small PDFs shaped as document scanners and archive software
write them, one image encoding or page geometry per file, with manifest.json naming each
page's MediaBox, CropBox, /Rotate, UserUnit and the Vietnamese words printed on it.

    usage: ~/.venv/sohoa-scans/bin/python scripts/gen-scanned-pdfs.py [OUT_DIR]

Needs Pillow, pikepdf and fpdf2 (scripts/install-test-tools.sh puts them in
~/.venv/sohoa-scans) and the Liberation Serif font (fonts-liberation2). The output is
deterministic for a given set of library versions; workers/tests/scanned_pdfs.rs reads it.

JBIG2: no JBIG2 encoder is packaged for Debian 12 or on PyPI, so jbig2-globals.pdf is
written here by hand, the way jbig2enc splits a page: its JBIG2Globals stream holds a
symbol dictionary (Huffman-coded sizes, one symbol as large as the page, its bitmap coded
with MMR, that is T.6 Group 4 coding from libtiff through Pillow) and the page's stream a
page information segment and a Huffman-coded text region that places that symbol at the
top left. Every pixel of the page comes from the globals: a reader that skips them gets a
blank page. Ghostscript (jbig2dec) and PDFium render it; poppler 22.12's JBIG2 MMR decoder
draws stray vertical lines below the text (its CCITT filter reads the same G4 data cleanly).
"""

import datetime
import io
import json
import os
import sys
import zlib

import pikepdf
from fpdf import FPDF
from PIL import Image, ImageCms, ImageDraw, ImageFont
from pikepdf import Array, Dictionary, Name

FONT = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
A4 = (595.0, 842.0)

# Real Vietnamese lines, one set per file, so each file's expected words are its own.
LINES = {
    "ccitt-g4": ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                 "GIẤY KHAI SINH", "Họ và tên: Nguyễn Thị Hoa", "Nơi sinh: Bệnh viện Phụ sản Hà Nội"],
    "ccitt-g3": ["ỦY BAN NHÂN DÂN PHƯỜNG DỊCH VỌNG", "Số: 125/QĐ-UBND",
                 "Quyết định về việc cấp giấy phép", "xây dựng nhà ở riêng lẻ", "Người ký: Trần Văn Thắng"],
    "jbig2-globals": ["GIẤY CHỨNG NHẬN KẾT HÔN", "Họ tên chồng: Lê Minh Tuấn",
                      "Họ tên vợ: Phạm Thị Lan", "Ngày đăng ký: mười lăm tháng năm"],
    "jpx": ["SỔ HỘ KHẨU GIA ĐÌNH", "Chủ hộ: Đặng Văn Hùng", "Địa chỉ: thôn Đông, xã Yên Thường",
            "huyện Gia Lâm, thành phố Hà Nội"],
    "indexed": ["PHIẾU LÝ LỊCH TƯ PHÁP", "Họ và tên: Vũ Thị Mai", "Tình trạng án tích: không có án tích",
                "Sở Tư pháp thành phố Đà Nẵng"],
    "smask": ["BIÊN NHẬN HỒ SƠ", "Bộ phận tiếp nhận và trả kết quả", "Người nộp: Hoàng Văn Đức",
              "Ngày hẹn trả kết quả: thứ sáu"],
    "anisotropic": ["ĐƠN ĐỀ NGHỊ CẤP BẢN SAO", "Kính gửi: Ủy ban nhân dân quận Cầu Giấy",
                    "Tôi tên là: Ngô Thị Thủy", "Lý do: bổ sung hồ sơ việc làm"],
    "rotate90": ["BẢNG KÊ KHAI TÀI SẢN", "Tên tài sản: nhà ở và quyền sử dụng đất",
                 "Diện tích: một trăm hai mươi mét vuông", "Ghi chú: đã thế chấp ngân hàng"],
    "cropbox": ["GIẤY ỦY QUYỀN", "Bên ủy quyền: Đinh Công Tráng", "Bên nhận ủy quyền: Bùi Thị Xuân",
                "Nội dung: nhận kết quả thủ tục hành chính"],
    "two-images": ["THÔNG BÁO NỘP THUẾ", "Người nộp thuế: Lý Văn Phúc", "Số tiền: ba triệu đồng",
                   "Hạn nộp: ngày cuối tháng mười"],
    "vector": ["TỜ KHAI ĐĂNG KÝ THƯỜNG TRÚ", "Họ và tên: Trương Thị Nhung", "Ngày sinh: mồng một tết",
               "Quê quán: tỉnh Nghệ An"],
    "gray16": ["GIẤY CHỨNG TỬ", "Người đã chết: Đoàn Văn Sơn", "Nguyên nhân: tuổi già",
               "Nơi chết: tại nhà riêng"],
    "cmyk-jpeg": ["GIẤY PHÉP KINH DOANH", "Tên doanh nghiệp: Công ty Hưng Thịnh",
                  "Ngành nghề: sản xuất đồ gỗ", "Vốn điều lệ: năm tỷ đồng"],
    "flate-dct": ["HỢP ĐỒNG THUÊ NHÀ", "Bên cho thuê: Mạc Thị Hằng", "Bên thuê: Quách Văn Khải",
                  "Giá thuê: bốn triệu đồng mỗi tháng"],
    "text-layer": ["THÔNG BÁO KẾT QUẢ GIẢI QUYẾT", "Hồ sơ của ông Phan Văn Trị đã được giải quyết",
                   "Đề nghị ông đến nhận kết quả đúng hẹn"],
    "iccbased": ["QUYẾT ĐỊNH CÔNG NHẬN", "Trường Trung học phổ thông Chu Văn An", "Học sinh: Lương Thế Vinh",
                 "Xếp loại: giỏi toàn diện"],
    "lab": ["GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT", "Thửa đất số: bốn trăm mười hai",
            "Tờ bản đồ số: hai mươi bảy", "Mục đích sử dụng: đất ở tại đô thị"],
    "mrc": ["BIÊN BẢN HỌP TỔ DÂN PHỐ", "Thời gian: tám giờ sáng chủ nhật", "Chủ trì: ông Kiều Văn Thành",
            "Nội dung: vệ sinh môi trường khu dân cư"],
    "invisible-text": ["GIẤY HẸN TRẢ KẾT QUẢ", "Hồ sơ đăng ký biến động đất đai",
                       "Người nhận: Chu Văn Khánh", "Ngày trả: thứ hai tuần sau"],
    "text-rotated": ["BẢNG KÊ HỒ SƠ ĐÃ TIẾP NHẬN", "Ủy ban nhân dân xã Đông Hưng tiếp nhận",
                     "Người nộp: bà Nghiêm Thị Xuân"],
    "userunit": ["GIẤY XÁC NHẬN CƯ TRÚ", "Công an phường Láng Thượng xác nhận",
                 "Ông Tạ Quang Bửu cư trú tại địa phương"],
}


def render(lines, dpi, size_pt=18, page_pt=A4, margin_pt=54, paper=255, ink=0, top_pt=72):
    """A page of text in Liberation Serif as a greyscale scan at `dpi`."""
    w, h = round(page_pt[0] * dpi / 72), round(page_pt[1] * dpi / 72)
    img = Image.new("L", (w, h), paper)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, round(size_pt * dpi / 72))
    y = top_pt * dpi / 72
    for line in lines:
        draw.text((margin_pt * dpi / 72, y), line, font=font, fill=ink)
        y += size_pt * 1.8 * dpi / 72
    return img


def bilevel(img):
    return img.point(lambda v: 255 if v >= 128 else 0, mode="1")


def ccitt(img, group):
    """Raw CCITT data of a bilevel image from libtiff (one strip), with paper coded as white."""
    # Pillow writes "1" images as min-is-black; the fax coders code 0 bits as white runs, so
    # the image goes in inverted for the paper to be white in the code.
    inverted = img.point(lambda v: 255 - v, mode="1")
    buf = io.BytesIO()
    inverted.save(buf, format="TIFF", compression=group, strip_size=1 << 30)
    tiff = Image.open(io.BytesIO(buf.getvalue()))
    offsets, counts = tiff.tag_v2[273], tiff.tag_v2[279]
    assert len(offsets) == 1, "one strip"
    return buf.getvalue()[offsets[0]:offsets[0] + counts[0]]


def jpeg(img, quality=60, **kw):
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality, optimize=True, **kw)
    return buf.getvalue()


class Doc:
    """A PDF built object by object, with the page facts the manifest records."""

    def __init__(self):
        self.pdf = pikepdf.Pdf.new()
        self.pages = []

    def image(self, data, width, height, filters, cs=Name.DeviceGray, bpc=8, parms=None, **extra):
        stream = pikepdf.Stream(self.pdf, b"")
        stream.write(data, filter=filters, decode_parms=parms)
        stream.Type, stream.Subtype = Name.XObject, Name.Image
        stream.Width, stream.Height, stream.BitsPerComponent = width, height, bpc
        if cs is not None:
            stream.ColorSpace = cs
        for key, value in extra.items():
            stream[Name("/" + key)] = value
        return self.pdf.make_indirect(stream)

    def page(self, content, images, words, media=(0, 0) + A4, crop=None, rotate=0, user_unit=None):
        page = self.pdf.add_blank_page(page_size=A4)
        page.MediaBox = Array(list(media))
        if crop is not None:
            page.CropBox = Array(list(crop))
        if rotate:
            page.Rotate = rotate
        if user_unit is not None:
            page.obj[Name.UserUnit] = user_unit
        page.Resources = Dictionary(XObject=Dictionary({f"/Im{i}": im for i, im in enumerate(images)}))
        page.Contents = self.pdf.make_stream(content.encode())
        self.pages.append(facts(media, crop, rotate, user_unit, words))

    def save(self, path):
        self.pdf.save(path, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.disable)


def facts(media, crop, rotate, user_unit, words):
    return {"media_box": list(media), "crop_box": list(crop if crop is not None else media),
            "rotate": rotate, "user_unit": user_unit if user_unit is not None else 1.0, "words": words}


def full_page(w=A4[0], h=A4[1], x=0, y=0, name="Im0"):
    return f"q {w} 0 0 {h} {x} {y} cm /{name} Do Q\n"


def words_of(key):
    return " ".join(LINES[key])


def g4_page(doc, key, dpi=200):
    img = bilevel(render(LINES[key], dpi))
    im = doc.image(ccitt(img, "group4"), img.width, img.height, Name.CCITTFaxDecode, bpc=1,
                   parms=Dictionary(K=-1, Columns=img.width, Rows=img.height, BlackIs1=False))
    doc.page(full_page(), [im], words_of(key))


def g3_page(doc, key, dpi=200):
    img = bilevel(render(LINES[key], dpi))
    # libtiff's Group 3 coder writes one-dimensional (K = 0) rows, each after an EOL code
    im = doc.image(ccitt(img, "group3"), img.width, img.height, Name.CCITTFaxDecode, bpc=1,
                   parms=Dictionary(K=0, Columns=img.width, Rows=img.height, EndOfLine=True, BlackIs1=False))
    doc.page(full_page(), [im], words_of(key))


# --- JBIG2, written by hand (see the module's doc) ---

def bits(s):
    return [int(c) for c in s]


def num(value, width):
    return [(value >> (width - 1 - i)) & 1 for i in range(width)]


def pack(bitlist):
    bitlist = bitlist + [0] * (-len(bitlist) % 8)
    return bytes(int("".join(map(str, bitlist[i:i + 8])), 2) for i in range(0, len(bitlist), 8))


# Standard Huffman tables of JBIG2 Annex B as (prefix length, range length, range low)
# lines, in the standard's order; "low" and "high" are the open-ended lines, "oob" the OOB.
B1 = [(1, 4, 0), (2, 8, 16), (3, 16, 272), (0, 32, "low"), (3, 32, 65808)]
B2 = [(1, 0, 0), (2, 0, 1), (3, 0, 2), (4, 3, 3), (5, 6, 11), (0, 32, "low"), (6, 32, 75), (6, 0, "oob")]
B4 = [(1, 0, 1), (2, 0, 2), (3, 0, 3), (4, 3, 4), (5, 6, 12), (0, 32, "low"), (5, 32, 76)]
B6 = [(5, 10, -2048), (4, 9, -1024), (4, 8, -512), (4, 7, -256), (5, 6, -128), (5, 5, -64), (4, 5, -32),
      (2, 7, 0), (3, 7, 128), (3, 8, 256), (4, 9, 512), (4, 10, 1024), (6, 32, "low"), (6, 32, 2048)]
B8 = [(8, 3, -15), (9, 1, -7), (8, 1, -5), (9, 0, -3), (7, 0, -2), (4, 0, -1), (2, 1, 0), (5, 0, 2), (6, 0, 3),
      (3, 4, 4), (6, 1, 20), (4, 4, 22), (4, 5, 38), (5, 6, 70), (5, 7, 134), (6, 7, 262), (7, 8, 390),
      (6, 10, 646), (9, 32, "low"), (9, 32, 1670), (2, 0, "oob")]
B11 = [(1, 0, 1), (2, 1, 2), (4, 0, 3), (4, 1, 5), (5, 1, 7), (5, 2, 9), (6, 2, 13), (7, 2, 17), (7, 3, 21),
       (7, 4, 29), (7, 5, 45), (7, 6, 77), (7, 32, 141)]


def canonical(lengths):
    """Prefix codes from code lengths, assigned as JBIG2's B.3 does (0 length: no code)."""
    count = [0] * (max(lengths) + 1)
    for n in lengths:
        count[n] += 1
    count[0] = 0
    first, codes = 0, [None] * len(lengths)
    for length in range(1, len(count)):
        first = (first + count[length - 1]) << 1
        code = first
        for i, n in enumerate(lengths):
            if n == length:
                codes[i] = num(code, length)
                code += 1
    return codes


def huff(table, value):
    """The bits of `value` (None for OOB) in a standard table; the last line is the open top."""
    codes = canonical([line[0] for line in table])
    ranged = [i for i, line in enumerate(table) if isinstance(line[2], int)]
    for i, (_, rangelen, low) in enumerate(table):
        if value is None and low == "oob":
            return codes[i]
        if value is None or not isinstance(low, int):
            continue
        top = low + (1 << rangelen) if i != ranged[-1] else 1 << 40
        if low <= value < top:
            return codes[i] + num(value - low, rangelen)
    raise ValueError(f"{value} not in the table")


def segment(number, kind, page, data, referred=()):
    head = number.to_bytes(4, "big") + bytes([kind, (len(referred) << 5)])
    head += bytes(referred) + bytes([page]) + len(data).to_bytes(4, "big")
    return head + data


def without_eofb(g4):
    """G4 data without its end-of-facsimile-block code, which a collective bitmap must not carry
    (some readers take the bytes after the last row for the export flags)."""
    bitstring = "".join(f"{b:08b}" for b in g4)
    cut = bitstring.rindex("000000000001" * 2)
    return pack(bits(bitstring[:cut]))


def symbol_dictionary(img):
    """One symbol, the whole page, Huffman-coded sizes and an MMR collective bitmap, exported."""
    mmr = without_eofb(ccitt(img, "group4"))
    flags = 0b1  # SDHUFF; tables B.4, B.2, B.1, B.1; no refinement
    data = flags.to_bytes(2, "big") + (1).to_bytes(4, "big") + (1).to_bytes(4, "big")
    head = huff(B4, img.height) + huff(B2, img.width) + huff(B2, None) + huff(B1, len(mmr))
    export = huff(B1, 0) + huff(B1, 1)  # a run of none not exported, then one exported
    return data + pack(head) + mmr + pack(export)


def text_region(w, h):
    """An immediate text region placing symbol 0 once, its top left corner at (0, 0)."""
    data = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes(8) + bytes([0])
    data += (0b1 | 1 << 4).to_bytes(2, "big")  # SBHUFF, REFCORNER top left, one strip
    data += (0).to_bytes(2, "big")  # FS B.6, DS B.8, DT B.11
    data += (1).to_bytes(4, "big")  # one instance
    # symbol ID codes: RUNCODE1 and RUNCODE2 one bit long; symbol 0's length is RUNCODE1 (1)
    runcodes = [0] * 35
    runcodes[1] = runcodes[2] = 1
    table = [b for n in runcodes for b in num(n, 4)] + canonical(runcodes)[1]
    data += pack(table)
    # STRIPT 1 then DT 1 (T = 0), first S 0, symbol ID 0, then the end of the strip
    strip = huff(B11, 1) + huff(B11, 1) + huff(B6, 0) + [0] + huff(B8, None)
    return data + pack(strip)


def jbig2_page(doc, key, dpi=200):
    img = bilevel(render(LINES[key], dpi))
    w, h = img.width, img.height
    # the page's pixels are the global dictionary's one symbol: a reader that skips the
    # globals gets a blank page
    globals_data = segment(0, 0, 0, symbol_dictionary(img))
    info = w.to_bytes(4, "big") + h.to_bytes(4, "big") + (round(dpi / 0.0254)).to_bytes(4, "big") * 2
    info += bytes([0]) + (0).to_bytes(2, "big")
    # no end-of-page segment: PDF's embedded JBIG2 streams leave it out (ISO 32000 7.4.7)
    page = segment(1, 48, 1, info) + segment(2, 6, 1, text_region(w, h), referred=(0,))
    gl = doc.pdf.make_stream(globals_data)
    im = doc.image(page, w, h, Name.JBIG2Decode, bpc=1, parms=Dictionary(JBIG2Globals=gl))
    doc.page(full_page(), [im], words_of(key))


def jpx_page(doc, key, dpi=150):
    img = render(LINES[key], dpi, paper=242)
    buf = io.BytesIO()
    img.save(buf, format="JPEG2000", quality_mode="rates", quality_layers=[40], irreversible=True)
    # no /ColorSpace: the codestream's own colour space applies, as in most scanner JPX
    im = doc.image(buf.getvalue(), img.width, img.height, Name.JPXDecode, cs=None)
    doc.page(full_page(), [im], words_of(key))


def indexed_page(doc, key, dpi=150):
    grey = render(LINES[key], dpi)
    # 16-colour palette from paper (cream) to ink (dark blue), four bits a pixel
    palette = [(int(250 - i * (250 - 20) / 15), int(246 - i * (246 - 30) / 15), int(230 - i * (230 - 110) / 15))
               for i in range(16)]
    idx = grey.point(lambda v: 15 - v // 16)
    raw = idx.tobytes()
    packed = bytearray()
    for row in range(idx.height):
        line = raw[row * idx.width:(row + 1) * idx.width]
        for i in range(0, len(line), 2):
            hi, lo = line[i], line[i + 1] if i + 1 < len(line) else 0
            packed.append((hi << 4) | lo)
    lookup = pikepdf.String(bytes(c for rgb in palette for c in rgb))
    cs = Array([Name.Indexed, Name.DeviceRGB, 15, lookup])
    im = doc.image(zlib.compress(bytes(packed), 9), idx.width, idx.height, Name.FlateDecode, cs=cs, bpc=4)
    doc.page(full_page(), [im], words_of(key))


def smask_page(doc, key, dpi=150):
    alpha = render(LINES[key], dpi, paper=0, ink=255)
    # the colour image is solid ink: the text shows only through the soft mask
    color = Image.new("RGB", alpha.size, (20, 20, 90))
    mask = doc.image(zlib.compress(alpha.tobytes(), 9), alpha.width, alpha.height, Name.FlateDecode)
    im = doc.image(zlib.compress(color.tobytes(), 9), color.width, color.height, Name.FlateDecode,
                   cs=Name.DeviceRGB, SMask=mask)
    doc.page(full_page(), [im], words_of(key))


def anisotropic_page(doc, key):
    img = render(LINES[key], 200)
    img = img.resize((img.width, img.height // 2), Image.LANCZOS)  # 200 x 100 dpi
    im = doc.image(zlib.compress(img.tobytes(), 9), img.width, img.height, Name.FlateDecode)
    doc.page(full_page(), [im], words_of(key))


def rotate90_page(doc, key, dpi=150):
    # a landscape page fed through the scanner in portrait: shown upright by /Rotate 90
    upright = render(LINES[key], dpi, page_pt=(A4[1], A4[0]))
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    im = doc.image(jpeg(stored), stored.width, stored.height, Name.DCTDecode)
    doc.page(full_page(), [im], words_of(key), rotate=90)


def cropbox_page(doc, key, dpi=150):
    img = render(LINES[key], dpi, margin_pt=80, top_pt=110)
    im = doc.image(jpeg(img), img.width, img.height, Name.DCTDecode)
    x0, y0 = 100, 200
    doc.page(full_page(x=x0, y=y0), [im], words_of(key), media=(x0, y0, x0 + A4[0], y0 + A4[1]),
             crop=(x0 + 36, y0 + 36, x0 + A4[0] - 36, y0 + A4[1] - 36))


def two_images_page(doc, key, dpi=150):
    img = render(LINES[key], dpi)
    half = img.height // 2
    top, bottom = img.crop((0, 0, img.width, half)), img.crop((0, half, img.width, img.height))
    ims = [doc.image(jpeg(part), part.width, part.height, Name.DCTDecode) for part in (top, bottom)]
    hpt = half * 72 / dpi
    content = full_page(h=hpt, y=A4[1] - hpt, name="Im0") + full_page(h=A4[1] - hpt, name="Im1")
    doc.page(content, ims, words_of(key))


def vector_page(doc, key, dpi=150):
    img = bilevel(render(LINES[key], dpi))
    im = doc.image(ccitt(img, "group4"), img.width, img.height, Name.CCITTFaxDecode, bpc=1,
                   parms=Dictionary(K=-1, Columns=img.width, BlackIs1=False))
    # a form's frame and boxes drawn as vectors over the scanned text
    frame = "q 1.5 w 0 G 36 36 523 770 re S 0.5 w 40 500 m 555 500 l S 40 300 515 150 re S "
    frame += "0.9 g 60 320 120 60 re f Q\n"
    doc.page(full_page() + frame, [im], words_of(key))


def gray16_page(doc, key, dpi=150):
    img = render(LINES[key], dpi, paper=236)
    raw = bytes(b for v in img.tobytes() for b in (v, v))  # v * 257, big-endian
    im = doc.image(zlib.compress(raw, 9), img.width, img.height, Name.FlateDecode, bpc=16)
    doc.page(full_page(), [im], words_of(key))


def cmyk_page(doc, key, dpi=150):
    grey = render(LINES[key], dpi)
    ink = grey.point(lambda v: 255 - v)
    paper = Image.new("L", grey.size, 12)
    cmyk = Image.merge("CMYK", (ink.point(lambda v: v * 6 // 10), ink.point(lambda v: v * 4 // 10), paper, ink))
    # Pillow writes Adobe CMYK JPEGs with inverted samples (an APP14 marker), read back
    # right by a /Decode array that inverts each component, as Photoshop's files are
    im = doc.image(jpeg(cmyk, quality=70), grey.width, grey.height, Name.DCTDecode, cs=Name.DeviceCMYK,
                   Decode=Array([1, 0, 1, 0, 1, 0, 1, 0]))
    doc.page(full_page(), [im], words_of(key))


def flate_dct_page(doc, key, dpi=150):
    img = render(LINES[key], dpi, paper=245)
    data = zlib.compress(jpeg(img), 9)
    im = doc.image(data, img.width, img.height, Array([Name.FlateDecode, Name.DCTDecode]))
    doc.page(full_page(), [im], words_of(key))


def iccbased_page(doc, key, dpi=150):
    grey = render(LINES[key], dpi, paper=248)
    rgb = Image.merge("RGB", (grey.point(lambda v: v * 9 // 10), grey.point(lambda v: v * 9 // 10), grey))
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    # the header's creation time (bytes 24-35) fixed, for the same bytes on every run
    profile[24:36] = bytes([0x07, 0xEA, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0])
    profile = bytes(profile)
    icc = doc.pdf.make_stream(profile)
    icc.N, icc.Alternate = 3, Name.DeviceRGB
    im = doc.image(zlib.compress(rgb.tobytes(), 9), rgb.width, rgb.height, Name.FlateDecode,
                   cs=Array([Name.ICCBased, icc]))
    doc.page(full_page(), [im], words_of(key))


def lab_page(doc, key, dpi=150):
    grey = render(LINES[key], dpi, paper=240)
    # CIE L*a*b*: lightness from the scan, a* and b* a faint yellow paper (a, b centred on 128)
    lab = Image.merge("RGB", (grey, Image.new("L", grey.size, 128), Image.new("L", grey.size, 140)))
    cs = Array([Name.Lab, Dictionary(WhitePoint=Array([0.9505, 1.0, 1.089]), Range=Array([-128, 127, -128, 127]))])
    im = doc.image(zlib.compress(lab.tobytes(), 9), lab.width, lab.height, Name.FlateDecode, cs=cs,
                   Decode=Array([0, 100, -128, 127, -128, 127]))
    doc.page(full_page(), [im], words_of(key))


def mrc_page(doc, key, dpi=150):
    """Mixed raster content as archive software writes it: a low-resolution paper background
    and the text as a bilevel stencil mask (/ImageMask) filled with ink colour."""
    text = bilevel(render(LINES[key], dpi * 2))
    paper = Image.new("RGB", (round(A4[0] * dpi / 72 / 4), round(A4[1] * dpi / 72 / 4)), (236, 230, 212))
    bg = doc.image(jpeg(paper), paper.width, paper.height, Name.DCTDecode, cs=Name.DeviceRGB)
    # in a stencil mask 0 paints: the G4 data of the inverted-paper code gives 0 for ink
    mask = doc.image(ccitt(text, "group4"), text.width, text.height, Name.CCITTFaxDecode, cs=None, bpc=1,
                     parms=Dictionary(K=-1, Columns=text.width, BlackIs1=False), ImageMask=True)
    content = full_page(name="Im0") + "q 0.1 0.1 0.35 rg " + full_page(name="Im1")[2:]
    doc.page(content, [bg, mask], words_of(key))


def invisible_text_page(doc, key, dpi=200):
    """A scan that older software gave an invisible text layer (render mode 3) now out of
    date: its words are not the page's."""
    img = bilevel(render(LINES[key], dpi))
    im = doc.image(ccitt(img, "group4"), img.width, img.height, Name.CCITTFaxDecode, bpc=1,
                   parms=Dictionary(K=-1, Columns=img.width, BlackIs1=False))
    font = doc.pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica,
                                            Encoding=Name.WinAnsiEncoding))
    stale = "BT 3 Tr /F0 14 Tf 54 760 Td (outdated layer from the former archive) Tj ET\n"
    doc.page(full_page() + stale, [im], words_of(key))
    doc.pdf.pages[-1].Resources.Font = Dictionary(F0=font)


def userunit_page(doc, key, dpi=150):
    img = bilevel(render(LINES[key], dpi))
    im = doc.image(ccitt(img, "group4"), img.width, img.height, Name.CCITTFaxDecode, bpc=1,
                   parms=Dictionary(K=-1, Columns=img.width, BlackIs1=False))
    # UserUnit 2: the page is A4 in units of 1/36 inch
    doc.page(full_page(w=A4[0] / 2, h=A4[1] / 2), [im], words_of(key), media=(0, 0, A4[0] / 2, A4[1] / 2),
             user_unit=2.0)


def text_layer_pdf(path, key):
    """A born-digital page: visible text in an embedded TrueType font, no image."""
    pdf = FPDF(unit="pt", format=A4)
    pdf.set_creator("sohoa test vectors")
    pdf.set_creation_date(datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    pdf.add_page()
    pdf.add_font("LiberationSerif", "", FONT)
    pdf.set_font("LiberationSerif", size=16)
    y = 72
    for line in LINES[key]:
        pdf.text(54, y, line)
        y += 30
    pdf.output(path)
    return facts((0, 0) + A4, None, 0, None, words_of(key))


def text_rotated_pdf(path, key):
    """A born-digital page turned a quarter by /Rotate 90 and cropped: its text is read in
    the page as shown."""
    text_layer_pdf(path + ".tmp", key)
    doc = pikepdf.Pdf.open(path + ".tmp")
    crop = (20, 30, A4[0] - 20, A4[1] - 30)
    page = doc.pages[0]
    page.obj.Rotate = 90
    page.obj.CropBox = pikepdf.Array(list(crop))
    doc.save(path, deterministic_id=True)
    os.remove(path + ".tmp")
    return facts((0, 0) + A4, crop, 90, None, words_of(key))


def single(out, name, build, key):
    doc = Doc()
    build(doc, key)
    doc.save(os.path.join(out, name))
    return {"file": name, "pages": doc.pages}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "vectors", "scanned")
    os.makedirs(out, exist_ok=True)
    files = [
        single(out, "ccitt-g4.pdf", g4_page, "ccitt-g4"),
        single(out, "ccitt-g3.pdf", g3_page, "ccitt-g3"),
        single(out, "jbig2-globals.pdf", jbig2_page, "jbig2-globals"),
        single(out, "jpx.pdf", jpx_page, "jpx"),
        single(out, "indexed.pdf", indexed_page, "indexed"),
        single(out, "smask.pdf", smask_page, "smask"),
        single(out, "anisotropic.pdf", anisotropic_page, "anisotropic"),
        single(out, "rotate90.pdf", rotate90_page, "rotate90"),
        single(out, "cropbox.pdf", cropbox_page, "cropbox"),
        single(out, "two-images.pdf", two_images_page, "two-images"),
        single(out, "vector.pdf", vector_page, "vector"),
        single(out, "gray16.pdf", gray16_page, "gray16"),
        single(out, "cmyk-jpeg.pdf", cmyk_page, "cmyk-jpeg"),
        single(out, "flate-dct.pdf", flate_dct_page, "flate-dct"),
        single(out, "iccbased.pdf", iccbased_page, "iccbased"),
        single(out, "lab.pdf", lab_page, "lab"),
        single(out, "mrc.pdf", mrc_page, "mrc"),
        single(out, "userunit.pdf", userunit_page, "userunit"),
    ]
    invisible = single(out, "invisible-text.pdf", invisible_text_page, "invisible-text")
    files.append(dict(invisible, text_layer=[1]))
    text_facts = text_layer_pdf(os.path.join(out, "text-layer.pdf"), "text-layer")
    files.append({"file": "text-layer.pdf", "pages": [text_facts], "text_layer": [1]})
    rotated_facts = text_rotated_pdf(os.path.join(out, "text-rotated.pdf"), "text-rotated")
    files.append({"file": "text-rotated.pdf", "pages": [rotated_facts], "text_layer": [1]})

    # several of the above in one file, as an archive's batch export mixes them
    mixed = pikepdf.Pdf.new()
    pages = []
    for name in ["jbig2-globals.pdf", "rotate90.pdf", "text-layer.pdf", "cmyk-jpeg.pdf", "cropbox.pdf"]:
        src = pikepdf.Pdf.open(os.path.join(out, name))
        mixed.pages.append(src.pages[0])
        pages += next(f["pages"] for f in files if f["file"] == name)
    mixed.save(os.path.join(out, "multipage.pdf"), deterministic_id=True,
               object_stream_mode=pikepdf.ObjectStreamMode.disable)
    files.append({"file": "multipage.pdf", "pages": pages, "text_layer": [3]})

    manifest = {
        "about": "scanner-shaped PDFs written by scripts/gen-scanned-pdfs.py; boxes in PDF units, "
                 "words are the Vietnamese text printed on each page",
        "files": files,
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
