// The desk: pages of the one-stop desk over the service's own API. The token is kept in
// the tab's session storage (never in a URL) and sent as a bearer token; the pages a
// person sees follow the role of that token. Every word shown is Vietnamese.
'use strict';

const TOKEN_KEY = 'sohoa.token';

const ROLE_NAMES = {
  admin: 'Quản trị cơ quan',
  scanner: 'Cán bộ tiếp nhận, số hóa',
  signer: 'Người có thẩm quyền ký',
  consumer: 'Hệ thống khai thác dữ liệu',
  auditor: 'Kiểm tra, giám sát',
  worker: 'Máy xử lý',
  operator: 'Vận hành hệ thống',
};

// Each page: its address, title, who may open it (null: anyone, signed in or not).
const PAGES = [
  { hash: '#/', title: 'Trang chủ', roles: 'signed-in', render: home },
  { hash: '#/tiep-nhan', title: 'Tiếp nhận hồ sơ', roles: ['scanner'], render: intake },
  { hash: '#/ho-so/', prefix: true, title: 'Hồ sơ', roles: ['scanner'], render: dossier, hidden: true },
  { hash: '#/tra-cuu', title: 'Tra cứu kết quả số hóa', roles: ['consumer', 'scanner', 'auditor', 'admin'], render: records },
  { hash: '#/ban-ghi/', prefix: true, title: 'Kết quả số hóa', roles: ['consumer', 'scanner', 'auditor', 'admin'], render: recordPage, hidden: true },
  { hash: '#/ky-so', title: 'Kết quả chờ ký', roles: ['signer'], render: waitingResults },
  { hash: '#/ket-qua/', prefix: true, title: 'Kết quả giải quyết', roles: ['signer'], render: resultPage, hidden: true },
  { hash: '#/chi-so', title: 'Chỉ số phục vụ', roles: ['admin', 'auditor', 'operator'], render: indicators },
  { hash: '#/hang-doi', title: 'Hàng đợi xử lý', roles: ['admin', 'auditor', 'operator'], render: queue },
  { hash: '#/may-xu-ly', title: 'Máy xử lý', roles: ['admin', 'operator'], render: workers },
  { hash: '#/ma-truy-cap', title: 'Mã truy cập', roles: ['admin'], render: tokensPage },
  { hash: '#/nhat-ky', title: 'Nhật ký hệ thống', roles: ['admin', 'auditor', 'operator'], render: auditPage },
  { hash: '#/xac-minh', title: 'Xác minh văn bản điện tử', roles: null, render: verify },
  { hash: '#/xac-minh/', prefix: true, title: 'Xác minh văn bản điện tử', roles: null, render: verifyLink, hidden: true },
  { hash: '#/dang-nhap', title: 'Đăng nhập', roles: null, render: signIn, hidden: true },
];

// What a verification problem means, by its stable code.
const PROBLEMS = {
  byte_range_gap: 'Phạm vi ký để hở phần dữ liệu ngoài chữ ký.',
  byte_range_malformed: 'Phạm vi dữ liệu được ký không đúng quy cách.',
  byte_range_uncovered: 'Chữ ký không phủ toàn bộ tệp tại thời điểm ký.',
  ca_constraint: 'Chứng thư trong chuỗi không được phép cấp chứng thư cho người ký.',
  certificate_expired: 'Chứng thư số đã hết hạn tại thời điểm ký.',
  certificate_malformed: 'Chứng thư số không đọc được.',
  certificate_not_yet_valid: 'Chứng thư số chưa có hiệu lực tại thời điểm ký.',
  certificate_revoked: 'Chứng thư số đã bị thu hồi.',
  certification_not_first: 'Chữ ký chứng nhận không phải chữ ký đầu tiên của văn bản.',
  chain_incomplete: 'Không dựng được chuỗi chứng thư đến tổ chức cung cấp dịch vụ tin cậy.',
  cms_malformed: 'Khối chữ ký không đúng quy cách.',
  cms_no_signed_attributes: 'Chữ ký thiếu các thuộc tính được ký.',
  cms_not_detached: 'Chữ ký không tách rời khỏi nội dung như quy định.',
  digest_mismatch: 'Nội dung văn bản đã bị thay đổi sau khi ký.',
  file_unreadable: 'Không đọc được tệp.',
  internal: 'Lỗi trong quá trình xác minh.',
  key_usage: 'Chứng thư số không được dùng để ký văn bản.',
  modified_after_signing: 'Văn bản bị sửa đổi sau khi ký theo cách không được phép.',
  revision_unreadable: 'Không đọc được phiên bản văn bản đã ký.',
  signature_removed: 'Một chữ ký đã bị gỡ khỏi văn bản.',
  signature_unreadable: 'Không đọc được chữ ký.',
  signer_certificate_missing: 'Không có chứng thư số của người ký.',
  timestamp_malformed: 'Dấu thời gian không đúng quy cách.',
  timestamp_mismatch: 'Dấu thời gian không khớp với chữ ký.',
  timestamp_untrusted: 'Dấu thời gian không do nguồn tin cậy cấp.',
  unsupported_algorithm: 'Thuật toán ký chưa được hỗ trợ.',
  unsupported_sub_filter: 'Định dạng chữ ký chưa được hỗ trợ.',
  untrusted_root: 'Chứng thư gốc không thuộc danh sách tin cậy.',
};

const REVOCATION = {
  good: 'Chứng thư chưa bị thu hồi (đã kiểm tra).',
  revoked: 'Chứng thư đã bị thu hồi.',
  unknown: 'Chưa xác định được tình trạng thu hồi.',
  not_applicable: 'Chứng thư không nêu nguồn kiểm tra thu hồi.',
};

const JOB_KINDS = { ocr: 'Nhận dạng chữ', seal: 'Đóng dấu số, lưu trữ' };

const RECORD_STATUS = { active: 'Còn hiệu lực', revoked: 'Đã thu hồi', superseded: 'Đã được thay thế', disposed: 'Đã hủy theo thời hạn lưu trữ' };

let session = null; // { token, role, agency, label }

// ---- helpers

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function main() {
  return document.getElementById('noi-dung');
}

function show(title, ...content) {
  document.title = `${title} — Sohoa`;
  const m = main();
  m.replaceChildren(el('h1', { text: title }), ...content);
  m.focus();
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers);
  if (session) headers.authorization = `Bearer ${session.token}`;
  const response = await fetch(`/api/v1${path}`, Object.assign({}, options, { headers }));
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  if (!response.ok) {
    const error = new Error(messageFor(response.status, body));
    error.status = response.status;
    error.code = body && body.code;
    throw error;
  }
  return body;
}

function messageFor(status, body) {
  if (status === 401) return 'Mã truy cập không đúng hoặc đã bị thu hồi.';
  if (status === 403) return 'Vai trò của bạn không được làm việc này.';
  if (status === 404) return 'Không tìm thấy.';
  if (status === 413) return 'Tệp quá lớn.';
  if (status === 422) return 'Tệp không phải là PDF đọc được.';
  if (status === 429 || status === 503) return 'Hệ thống đang bận, vui lòng thử lại sau ít phút.';
  if (status === 400) return 'Thông tin nhập chưa đúng.';
  return `Lỗi hệ thống (mã ${status}).`;
}

function time(value) {
  if (!value) return 'không có';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', hour12: false });
}

function date(value) {
  if (!value) return 'không có';
  const [y, m, d] = value.split('-');
  return d && m && y ? `${d}/${m}/${y}` : value;
}

function allowed(page) {
  if (page.roles === null) return true;
  if (!session) return false;
  return page.roles === 'signed-in' || page.roles.includes(session.role);
}

// ---- frame

function drawFrame(current) {
  const menu = document.getElementById('menu');
  menu.replaceChildren(
    ...PAGES.filter((p) => !p.hidden && allowed(p)).map((p) =>
      el('li', {}, el('a', { href: p.hash, 'aria-current': p === current ? 'page' : false, text: p.title })),
    ),
  );
  const who = document.getElementById('who');
  if (session) {
    who.replaceChildren(
      `${ROLE_NAMES[session.role] || session.role} · ${session.agency}`,
      el('button', { type: 'button', class: 'secondary', onclick: signOut, text: 'Đăng xuất' }),
    );
  } else {
    who.replaceChildren(el('a', { href: '#/dang-nhap', text: 'Đăng nhập' }));
  }
}

async function route() {
  if (watching) {
    clearTimeout(watching.timer);
    watching = null;
  }
  const hash = location.hash && location.hash !== '#' ? location.hash.split('?')[0] : '#/';
  const page = PAGES.find((p) => (p.prefix ? hash.startsWith(p.hash) && hash.length > p.hash.length : p.hash === hash));
  if (!page) {
    drawFrame(null);
    show('Không tìm thấy trang', el('p', {}, 'Địa chỉ này không có trang nào. ', el('a', { href: '#/', text: 'Về trang chủ' })));
    return;
  }
  if (!allowed(page)) {
    if (!session) {
      location.hash = '#/dang-nhap';
      return;
    }
    drawFrame(null);
    show(page.title, el('p', { class: 'error', role: 'alert', text: 'Vai trò của bạn không được mở trang này.' }));
    return;
  }
  drawFrame(page);
  await page.render(page, decodeURIComponent(hash.slice(page.hash.length)));
}

// ---- sign in

async function restore() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return;
  try {
    session = { token };
    const me = await api('/me');
    session = { token, role: me.role, agency: me.agency, label: me.label, tokenId: me.id };
  } catch (_) {
    session = null;
    sessionStorage.removeItem(TOKEN_KEY);
  }
}

function signIn(page) {
  const status = el('p', { id: 'dang-nhap-loi', class: 'error', role: 'alert' });
  const input = el('input', { id: 'ma-truy-cap', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'dang-nhap-goi-y dang-nhap-loi' });
  const form = el(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        status.textContent = '';
        const token = input.value.trim();
        if (!token) {
          status.textContent = 'Vui lòng nhập mã truy cập.';
          return;
        }
        session = { token };
        try {
          const me = await api('/me');
          session = { token, role: me.role, agency: me.agency, label: me.label, tokenId: me.id };
          sessionStorage.setItem(TOKEN_KEY, token);
          location.hash = '#/';
        } catch (error) {
          session = null;
          status.textContent = error.message;
          input.focus();
        }
      },
    },
    el('label', { for: 'ma-truy-cap', text: 'Mã truy cập' }),
    input,
    el('p', { id: 'dang-nhap-goi-y', class: 'hint', text: 'Mã do quản trị cơ quan cấp. Mã chỉ được giữ trong thẻ trình duyệt này và mất khi đóng thẻ.' }),
    el('button', { type: 'submit', text: 'Đăng nhập' }),
    status,
  );
  show(page.title, form, el('p', {}, 'Cần kiểm tra một văn bản điện tử? ', el('a', { href: '#/xac-minh', text: 'Xác minh không cần đăng nhập' })));
}

function signOut() {
  session = null;
  sessionStorage.removeItem(TOKEN_KEY);
  location.hash = '#/dang-nhap';
}

// ---- home

function home(page) {
  const mine = PAGES.filter((p) => !p.hidden && p.hash !== '#/' && allowed(p));
  show(
    page.title,
    el(
      'dl',
      { class: 'card' },
      el('dt', { text: 'Vai trò' }),
      el('dd', { text: ROLE_NAMES[session.role] || session.role }),
      el('dt', { text: 'Cơ quan' }),
      el('dd', { text: session.agency }),
    ),
    el('h2', { text: 'Việc của bạn' }),
    el('ul', {}, mine.map((p) => el('li', {}, el('a', { href: p.hash, text: p.title })))),
  );
}

// ---- verification (public)

function verify(page) {
  const result = el('section', { 'aria-live': 'polite', 'aria-label': 'Kết quả xác minh' });
  const input = el('input', { id: 'tep-pdf', class: 'file-input', type: 'file', accept: 'application/pdf,.pdf' });
  const chosen = el('p', { class: 'file-name', text: 'Chưa chọn tệp nào.' });
  const check = async (file) => {
    if (!file) return;
    chosen.textContent = `Tệp đã chọn: ${file.name}`;
    result.replaceChildren(el('p', { text: `Đang xác minh tệp ${file.name}…` }));
    try {
      const response = await fetch('/api/v1/public/verify', { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: file });
      const body = await response.json().catch(() => null);
      if (!response.ok) throw new Error(response.status === 422 ? 'Tệp không phải là PDF đọc được.' : messageFor(response.status, body));
      result.replaceChildren(...report(file.name, body));
    } catch (error) {
      result.replaceChildren(el('p', { class: 'error', role: 'alert', text: error.message }));
    }
  };
  input.addEventListener('change', () => check(input.files[0]));
  const drop = el(
    'div',
    { class: 'drop', id: 'vung-tha' },
    el('p', { text: 'Kéo và thả tệp PDF vào đây, hoặc' }),
    input,
    el('label', { for: 'tep-pdf', class: 'file-button', text: 'Chọn tệp PDF cần xác minh' }),
    chosen,
  );
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    check(event.dataTransfer.files[0]);
  });
  show(
    page.title,
    el('p', { text: 'Kiểm tra ai đã ký văn bản, ký khi nào, văn bản có bị thay đổi sau khi ký không. Không cần đăng nhập; tệp không được lưu lại.' }),
    drop,
    result,
  );
}

// What the public may know of a record: who issued it, what, when, whether it stands.
function publicRecord(r) {
  const rows = [
    ['Loại văn bản', r.doc_type_title || RECORD_KINDS[r.kind] || 'Văn bản khác'],
    ['Cơ quan ban hành', r.agency_name ? `${r.agency_name} (${r.agency})` : r.agency],
    ['Ngày ban hành', date(r.issue_date)],
    ['Ngày lưu trữ', time(r.archived_at)],
    ['Tình trạng', RECORD_STATUS[r.status] || 'Không rõ'],
    ['Sổ minh bạch', r.in_log ? `Đã ghi, vị trí ${r.log_index} trong sổ` : 'Chưa ghi vào sổ'],
  ];
  return el('dl', {}, rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
}

// Whether the file is, byte for byte, a record the service archived and logged.
function inLog(records) {
  const found = records && records.length ? records[records.length - 1] : null;
  // a div, not a section: the signatures' sections stay the report's only cards of that kind
  return el(
    'div',
    { class: 'card', id: 'trong-so' },
    el('h2', { text: 'Đối chiếu với sổ minh bạch' }),
    found
      ? [el('p', { class: 'in-log', text: 'Tệp này đúng từng byte với một văn bản đã được lưu trữ và ghi vào sổ minh bạch.' }), publicRecord(found)]
      : el('p', { class: 'not-in-log', text: 'Không tìm thấy tệp này trong sổ minh bạch: đây không phải bản đã được lưu trữ, hoặc tệp đã bị thay đổi.' }),
  );
}

async function verifyLink(page, short) {
  verify(page);
  const area = el('section', { class: 'card', id: 'van-ban-tra-cuu', 'aria-live': 'polite', 'aria-labelledby': 'van-ban-tieu-de' },
    el('h2', { id: 'van-ban-tieu-de', text: `Văn bản có mã xác minh ${short}` }));
  main().querySelector('.drop').before(area);
  try {
    const response = await fetch(`/api/v1/public/records/${encodeURIComponent(short)}`);
    if (response.status === 404) throw new Error('Không có văn bản nào đã ban hành với mã xác minh này.');
    if (!response.ok) throw new Error(messageFor(response.status, null));
    const record = await response.json();
    area.append(publicRecord(record), el('p', { class: 'hint', text: 'Để chắc chắn bản đang cầm đúng là văn bản này, hãy chọn tệp PDF của văn bản bên dưới.' }));
  } catch (error) {
    area.append(el('p', { class: 'error', role: 'alert', text: error.message }));
  }
}

function report(name, body) {
  const signatures = body.signatures || [];
  const out = [];
  if (signatures.length === 0) {
    out.push(el('p', { class: 'verdict bad', text: `Tệp ${name} không có chữ ký số nào.` }), inLog(body.records));
    return out;
  }
  out.push(
    el('p', {
      class: `verdict ${body.valid ? 'ok' : 'bad'}`,
      text: body.valid
        ? `Tệp ${name} hợp lệ: ${signatures.length} chữ ký đều đúng, văn bản không bị thay đổi trái phép sau khi ký.`
        : `Tệp ${name} không hợp lệ: có chữ ký không đúng hoặc văn bản bị thay đổi sau khi ký.`,
    }),
  );
  signatures.forEach((s, i) => {
    const timestamp = s.kind === 'document_timestamp';
    const changes = s.changes_after || [];
    const forbidden = changes.filter((c) => !c.allowed).length;
    const rows = [
      ['Kết luận', s.valid ? 'Hợp lệ' : 'Không hợp lệ'],
      [timestamp ? 'Đơn vị cấp dấu thời gian' : 'Người ký', s.signer || 'không rõ'],
      ['Thời điểm ký ghi trong chữ ký', time(s.claimed_time)],
      ['Thời điểm được dấu thời gian chứng minh', time(s.proven_time || s.timestamp_time)],
      ['Mức chữ ký', s.level],
      ['Tình trạng thu hồi', REVOCATION[s.revocation] || s.revocation],
      [
        'Thay đổi sau khi ký',
        changes.length === 0 ? 'Không có thay đổi nào.' : `${changes.length} thay đổi, trong đó ${forbidden} không được phép.`,
      ],
    ];
    if (s.reason) rows.push(['Lý do ký', s.reason]);
    if (s.location) rows.push(['Nơi ký', s.location]);
    const problems = (s.problems || []).map((p) => el('li', { 'data-code': p.code, text: PROBLEMS[p.code] || 'Chữ ký có lỗi chưa được mô tả.' }));
    out.push(
      el(
        'section',
        { class: 'card', 'aria-label': `${timestamp ? 'Dấu thời gian' : 'Chữ ký'} thứ ${i + 1}` },
        el('h2', { text: `${timestamp ? 'Dấu thời gian' : 'Chữ ký'} thứ ${i + 1}` }),
        el('dl', {}, rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })])),
        problems.length ? [el('h3', { text: 'Vấn đề phát hiện' }), el('ul', {}, problems)] : null,
      ),
    );
  });
  out.push(inLog(body.records));
  return out;
}

// The catalog's document types, read once: the list, each type's usual title, and the
// fields extraction looks for in it.
let docTypes = null;
async function catalogTypes() {
  if (!docTypes) {
    const body = await api('/doc-types').catch(() => null);
    const list = body ? body.doc_types : [];
    const types = {
      list,
      titles: Object.fromEntries(list.map((t) => [t.id, t.titles && t.titles[0] ? t.titles[0] : t.id])),
      fields: Object.fromEntries(list.map((t) => [t.id, t.fields || []])),
    };
    // a failed read is tried again on the next page
    if (!body) return types;
    docTypes = types;
  }
  return docTypes;
}

// ---- records

async function records(page) {
  const types = await catalogTypes();
  const results = el('section', { 'aria-live': 'polite', 'aria-label': 'Kết quả tra cứu' });
  const owner = el('input', { id: 'chu-so-huu', type: 'text', inputmode: 'numeric', autocomplete: 'off' });
  const type = el(
    'select',
    { id: 'loai-giay-to' },
    el('option', { value: '', text: 'Mọi loại giấy tờ' }),
    types.list.map((t) => el('option', { value: t.id, text: types.titles[t.id] })),
  );
  const validAt = el('input', { id: 'con-hieu-luc', type: 'date' });
  const names = types.titles;
  const form = el(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const query = new URLSearchParams();
        if (owner.value.trim()) query.set('owner', owner.value.trim());
        if (type.value) query.set('type', type.value);
        if (validAt.value) query.set('valid_at', validAt.value);
        results.replaceChildren(el('p', { text: 'Đang tra cứu…' }));
        try {
          const body = await api(`/records?${query}`);
          results.replaceChildren(recordTable(body.records, names));
        } catch (error) {
          results.replaceChildren(el('p', { class: 'error', role: 'alert', text: error.message }));
        }
      },
    },
    el(
      'div',
      { class: 'grid' },
      el('div', {}, el('label', { for: 'chu-so-huu', text: 'Số định danh của chủ hồ sơ' }), owner),
      el('div', {}, el('label', { for: 'loai-giay-to', text: 'Loại giấy tờ' }), type),
      el('div', {}, el('label', { for: 'con-hieu-luc', text: 'Còn hiệu lực vào ngày' }), validAt),
    ),
    el('button', { type: 'submit', text: 'Tra cứu' }),
  );
  show(page.title, form, results);
}

function recordTable(list, names) {
  if (!list.length) return el('p', { text: 'Không có kết quả nào phù hợp.' });
  return el(
    'table',
    {},
    el('caption', { class: 'hint', text: `${list.length} kết quả` }),
    el('thead', {}, el('tr', {}, ['Loại giấy tờ', 'Chủ hồ sơ', 'Số', 'Cơ quan', 'Hiệu lực', 'Tình trạng', 'Vị trí trong sổ'].map((h) => el('th', { scope: 'col', text: h })))),
    el(
      'tbody',
      {},
      list.map((r) =>
        el(
          'tr',
          {},
          el('td', {}, el('a', { href: `#/ban-ghi/${encodeURIComponent(r.id)}`, text: names[r.doc_type] || r.doc_type })),
          el('td', { text: r.owner_id || 'không có' }),
          el('td', { text: r.number || 'không có' }),
          el('td', { text: r.agency }),
          el('td', { text: `${date(r.valid_from)} – ${r.valid_until ? date(r.valid_until) : 'không thời hạn'}` }),
          el('td', { text: RECORD_STATUS[r.status] || r.status }),
          el('td', { text: r.log_index === null || r.log_index === undefined ? 'chưa ghi' : `số ${r.log_index}` }),
        ),
      ),
    ),
  );
}

// ---- one record: what it is, who sealed or signed it, and its place in the log, checked here

const RECORD_KINDS = { digitized_copy: 'Bản sao điện tử số hóa từ giấy tờ', result: 'Kết quả giải quyết thủ tục' };
const SIGNATURE_KINDS = { seal: 'Dấu số của cơ quan', official: 'Chữ ký số của người có thẩm quyền', deferred: 'Chữ ký số của người có thẩm quyền' };

function bytesOf(base64) {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

async function sha256(...parts) {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// RFC 9162 section 2.1.3.2: the root the audit path leads to from the leaf.
async function rootFromPath(leaf, index, size, path) {
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(Uint8Array.of(1), p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await sha256(Uint8Array.of(1), r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

// Whether the proof's leaf is the record's manifest and its path leads to the checkpoint's root.
async function checkProof(proof) {
  if (!proof.checkpoint) return { ok: false, why: 'Sổ chưa có điểm kiểm tra được ký để đối chiếu.' };
  const lines = proof.checkpoint.split('\n');
  if (Number(lines[1]) !== proof.tree_size) return { ok: false, why: 'Điểm kiểm tra không cùng kích thước sổ với bằng chứng.' };
  const manifest = proof.manifest.replace(/^sha256:/, '');
  const leaf = await sha256(Uint8Array.of(0), Uint8Array.from(manifest.match(/../g).map((h) => parseInt(h, 16))));
  if (!same(leaf, bytesOf(proof.leaf_hash))) return { ok: false, why: 'Lá của sổ không phải bản kê của kết quả này.' };
  const root = await rootFromPath(leaf, proof.leaf_index, proof.tree_size, proof.hashes.map(bytesOf));
  if (!root || !same(root, bytesOf(lines[2]))) return { ok: false, why: 'Đường dẫn không dẫn tới gốc của sổ.' };
  return { ok: true };
}

async function recordPage(page, id) {
  let r;
  try {
    r = await api(`/records/${encodeURIComponent(id)}`);
  } catch (error) {
    show(page.title, el('p', { class: 'error', role: 'alert', text: error.message }));
    return;
  }
  const { titles } = await catalogTypes();
  const rows = [
    ['Loại', RECORD_KINDS[r.kind] || 'Khác'],
    ['Loại giấy tờ', titles[r.doc_type] || r.doc_type],
    ['Chủ hồ sơ', r.owner_id || 'không có'],
    ['Số', r.number || 'không có'],
    ['Cơ quan', r.agency],
    ['Ngày cấp', date(r.issue_date)],
    ['Hiệu lực', `${date(r.valid_from)} – ${r.valid_until ? date(r.valid_until) : 'không thời hạn'}`],
    ['Tình trạng', RECORD_STATUS[r.status] || 'Khác'],
    ['Lưu trữ lúc', time(r.created_at)],
    ['Mã băm nội dung', r.digest],
  ];
  if (r.status_reason) rows.push(['Lý do thay đổi tình trạng', r.status_reason]);
  const history = el('dl', { class: 'card' }, rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
  if (r.superseded_by) history.append(el('dt', { text: 'Được thay bằng' }), el('dd', {}, el('a', { href: `#/ban-ghi/${encodeURIComponent(r.superseded_by)}`, text: 'bản mới hơn' })));
  const signatures = (r.signatures || []).map((sig) =>
    el('li', { text: `${SIGNATURE_KINDS[sig.kind] || 'Chữ ký số'}: ${sig.signer || 'không rõ'}${sig.signing_time ? `, ký lúc ${time(sig.signing_time)}` : ''}${sig.level ? `, mức ${sig.level}` : ''}` }),
  );
  const proofArea = el('section', { class: 'card', 'aria-live': 'polite', 'aria-labelledby': 'so-minh-bach' }, el('h2', { id: 'so-minh-bach', text: 'Sổ minh bạch' }));
  const download = el('button', {
    type: 'button',
    class: 'secondary',
    text: 'Tải bản PDF',
    onclick: async () => {
      const response = await fetch(`/api/v1/records/${encodeURIComponent(r.id)}/content`, { headers: { authorization: `Bearer ${session.token}` } });
      if (!response.ok) return;
      const link = el('a', { href: URL.createObjectURL(await response.blob()), download: `${r.id}.pdf` });
      document.body.append(link);
      link.click();
      link.remove();
    },
  });
  show(
    `${page.title}: ${titles[r.doc_type] || r.doc_type}`,
    history,
    el('h2', { text: 'Chữ ký và dấu số' }),
    signatures.length ? el('ul', {}, signatures) : el('p', { text: 'Không có chữ ký số.' }),
    download,
    proofArea,
  );
  if (r.log_index === null || r.log_index === undefined) {
    proofArea.append(el('p', { text: 'Kết quả chưa được ghi vào sổ.' }));
    return;
  }
  try {
    const proof = await api(`/records/${encodeURIComponent(r.id)}/proof`);
    const checked = await checkProof(proof);
    proofArea.append(
      el('p', { text: `Vị trí ${proof.leaf_index} trong sổ gồm ${proof.tree_size} mục.` }),
      el('p', {
        id: 'kiem-tra-so',
        class: checked.ok ? 'verdict ok' : 'verdict bad',
        text: checked.ok ? 'Đã kiểm tra ngay trên trình duyệt: bản kê của kết quả này nằm trong sổ, khớp với gốc của điểm kiểm tra được ký.' : checked.why,
      }),
    );
  } catch (error) {
    proofArea.append(el('p', { class: 'error', text: error.message }));
  }
}

// ---- Decision 766 indicators

function percent(rate) {
  return rate === null || rate === undefined ? 'không có hồ sơ' : `${(rate * 100).toLocaleString('vi-VN', { maximumFractionDigits: 1 })} %`;
}

async function indicators(page) {
  const now = new Date(Date.now() + 7 * 3600 * 1000);
  const month = el('input', { id: 'thang', type: 'month', value: now.toISOString().slice(0, 7), required: true });
  const area = el('section', { 'aria-live': 'polite', 'aria-label': 'Chỉ số của tháng' });
  const load = async () => {
    area.replaceChildren(el('p', { text: 'Đang tính…' }));
    try {
      const body = await api(`/stats/766?month=${encodeURIComponent(month.value)}`);
      area.replaceChildren(indicatorTable(body));
    } catch (error) {
      area.replaceChildren(el('p', { class: 'error', role: 'alert', text: error.message }));
    }
  };
  const form = el('form', { onsubmit: (event) => { event.preventDefault(); load(); } },
    el('label', { for: 'thang', text: 'Tháng' }), month, el('button', { type: 'submit', text: 'Xem chỉ số' }));
  const depth = el('section', { id: 'do-sau-hang-doi', 'aria-label': 'Hàng đợi xử lý' }, el('h2', { text: 'Hàng đợi xử lý' }));
  const fixity = el('section', { id: 'toan-ven-luu-tru', 'aria-label': 'Kiểm tra toàn vẹn lưu trữ' }, el('h2', { text: 'Kiểm tra toàn vẹn lưu trữ' }));
  // the operator runs the installation and has no agency's indicators to read
  const has766 = ['admin', 'auditor'].includes(session.role);
  const intro = has766
    ? [el('p', { text: 'Các chỉ số theo Quyết định 766/QĐ-TTg của cơ quan, tính theo tháng; đạt 80 % trở lên được điểm tối đa.' }), form, area]
    : [];
  show(page.title, ...intro, depth, fixity);
  await Promise.all([has766 ? load() : null, queueDepth(depth), fixityStatus(fixity)]);
}

async function queueDepth(section) {
  try {
    const [body, dead] = await Promise.all([api('/jobs/depth'), api('/jobs?state=dead')]);
    const rows = body.depth.length
      ? el(
          'table',
          { id: 'hang-doi-bang' },
          el('thead', {}, el('tr', {}, ['Loại việc', 'Đang chờ', 'Đang xử lý', 'Bị dừng'].map((h) => el('th', { scope: 'col', text: h })))),
          el('tbody', {}, body.depth.map((k) => el('tr', { 'data-kind': k.kind },
            el('td', { text: JOB_KINDS[k.kind] || 'Việc khác' }), el('td', { text: k.queued }), el('td', { text: k.running }), el('td', { text: k.dead })))),
        )
      : el('p', { text: 'Chưa có việc nào.' });
    const link = dead.jobs.length
      ? el('p', { id: 'viec-bi-dung' }, `Có ${dead.jobs.length} việc bị dừng. `, el('a', { href: '#/hang-doi', text: 'Xem và cho chạy lại' }))
      : el('p', { id: 'viec-bi-dung', text: 'Không có việc nào bị dừng.' });
    section.append(rows, link);
  } catch (error) {
    section.append(el('p', { class: 'error', role: 'alert', text: error.message }));
  }
}

async function fixityStatus(section) {
  try {
    const body = await api('/archive/fixity');
    const r = body.report || {};
    section.append(
      el('p', { class: body.clean ? 'verdict ok' : 'verdict bad', text: body.clean ? 'Lưu trữ toàn vẹn.' : 'Có đối tượng lưu trữ bị thiếu hoặc bị hỏng.' }),
      el('dl', {},
        el('dt', { text: 'Lần kiểm tra gần nhất' }), el('dd', { text: time(body.finished_at) }),
        el('dt', { text: 'Số đối tượng đã kiểm tra' }), el('dd', { text: r.checked ?? 0 }),
        el('dt', { text: 'Bị thiếu' }), el('dd', { text: r.missing ?? 0 }),
        el('dt', { text: 'Bị hỏng' }), el('dd', { text: r.corrupt ?? 0 }),
        el('dt', { text: 'Đã khôi phục từ bản sao' }), el('dd', { text: r.restored ?? 0 })),
    );
  } catch (error) {
    section.append(el('p', { text: error.code === 'fixity_not_run' ? 'Chưa chạy lần kiểm tra toàn vẹn nào.' : error.message }));
  }
}

// A bar as long as the rate, drawn through the style object (the page's policy refuses
// style attributes), with a mark at 80 %.
function bar(rate) {
  const fill = el('span', { class: rate !== null && rate >= 0.8 ? 'fill ok' : 'fill' });
  fill.style.width = `${Math.min(rate || 0, 1) * 100}%`;
  return el('span', { class: 'bar', 'aria-hidden': 'true' }, fill);
}

function indicatorTable(body) {
  return el(
    'table',
    { id: 'chi-so-bang' },
    el('caption', { class: 'hint', text: `Tháng ${body.month.slice(5)}/${body.month.slice(0, 4)} · ${body.agency}` }),
    el('thead', {}, el('tr', {}, ['Chỉ số', 'Nội dung', 'Đạt / tổng', 'Tỷ lệ', 'Điểm so với tối đa'].map((h) => el('th', { scope: 'col', text: h })))),
    el(
      'tbody',
      {},
      body.indicators.map((i) =>
        el(
          'tr',
          { 'data-code': i.code },
          el('td', { text: i.code }),
          el('td', { text: i.name }),
          el('td', { text: `${i.numerator}/${i.denominator}` }),
          el('td', {}, bar(i.rate), ` ${percent(i.rate)}`),
          el('td', { text: i.score === null ? 'không có' : `${Math.round(i.score * 100)} %` }),
        ),
      ),
    ),
  );
}

// ---- queue

async function queue(page) {
  const area = el('section', { 'aria-live': 'polite', 'aria-label': 'Việc không xử lý được' });
  const load = async () => {
    try {
      const body = await api('/jobs?state=dead');
      area.replaceChildren(deadJobs(body.jobs, load));
    } catch (error) {
      area.replaceChildren(el('p', { class: 'error', role: 'alert', text: error.message }));
    }
  };
  show(page.title, el('p', { text: 'Những việc đã thử hết số lần cho phép mà không xong. Cho chạy lại khi nguyên nhân đã được khắc phục.' }), area);
  await load();
}

function deadJobs(jobs, reload) {
  if (!jobs.length) return el('p', { text: 'Không có việc nào bị dừng.' });
  const mayRequeue = ['admin', 'operator'].includes(session.role);
  return el(
    'table',
    {},
    el('thead', {}, el('tr', {}, ['Số việc', 'Loại việc', 'Cơ quan', 'Số lần đã thử', mayRequeue ? 'Thao tác' : null].filter(Boolean).map((h) => el('th', { scope: 'col', text: h })))),
    el(
      'tbody',
      {},
      jobs.map((j) =>
        el(
          'tr',
          {},
          el('td', { text: j.id }),
          el('td', { text: JOB_KINDS[j.kind] || j.kind }),
          el('td', { text: j.agency }),
          el('td', { text: `${j.attempts}/${j.max_attempts}` }),
          mayRequeue
            ? el(
                'td',
                {},
                el('button', {
                  type: 'button',
                  text: 'Cho chạy lại',
                  'aria-label': `Cho chạy lại việc số ${j.id}`,
                  onclick: async () => {
                    await api(`/jobs/${j.id}/requeue`, { method: 'POST' });
                    await reload();
                  },
                }),
              )
            : null,
        ),
      ),
    ),
  );
}

// ---- operator pages: workers, tokens, audit

function ago(ms) {
  if (!ms) return 'chưa lần nào';
  const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
  const when = time(new Date(ms).toISOString());
  if (seconds < 60) return `${when} (${seconds} giây trước)`;
  if (seconds < 3600) return `${when} (${Math.round(seconds / 60)} phút trước)`;
  return when;
}

async function workers(page) {
  const area = el('section', { 'aria-live': 'polite', 'aria-label': 'Danh sách máy xử lý' });
  show(page.title, el('p', { text: 'Các máy nhận dạng chữ đang được cấp mã truy cập, và lần gần nhất mỗi máy nhận việc hoặc báo còn đang xử lý.' }), area);
  try {
    const body = await api('/workers');
    area.replaceChildren(
      body.workers.length
        ? el(
            'table',
            { id: 'may-xu-ly-bang' },
            el('thead', {}, el('tr', {}, ['Số', 'Tên máy', 'Cơ quan', 'Phạm vi', 'Lần gần nhất hoạt động'].map((h) => el('th', { scope: 'col', text: h })))),
            el('tbody', {}, body.workers.map((w) => el('tr', { 'data-id': w.id },
              el('td', { text: w.id }), el('td', { text: w.label }), el('td', { text: w.agency }),
              el('td', { text: w.every_agency ? 'Mọi cơ quan' : 'Cơ quan mình' }), el('td', { text: ago(w.last_seen_at_ms) })))),
          )
        : el('p', { text: 'Chưa có máy xử lý nào.' }),
    );
  } catch (error) {
    area.replaceChildren(el('p', { class: 'error', role: 'alert', text: error.message }));
  }
}

const TOKEN_ERRORS = {
  label_required: 'Mã của máy xử lý hoặc người ký phải có tên (tên máy, hoặc tên khóa của người ký).',
  invalid_label: 'Tên quá dài.',
  own_token: 'Không thể thu hồi mã truy cập đang dùng để đăng nhập.',
  forbidden_role: 'Vai trò này không được cấp từ đây.',
};

async function tokensPage(page) {
  const list = el('section', { 'aria-live': 'polite', 'aria-label': 'Mã truy cập của cơ quan' });
  const made = el('section', { 'aria-live': 'polite', 'aria-label': 'Mã vừa cấp' });
  const role = el('select', { id: 'vai-tro-moi' },
    ['scanner', 'signer', 'auditor', 'consumer', 'worker', 'admin'].map((r) => el('option', { value: r, text: ROLE_NAMES[r] })));
  const label = el('input', { id: 'ten-ma-moi', type: 'text', autocomplete: 'off', maxlength: '100' });
  const load = async () => {
    try {
      const body = await api('/tokens');
      list.replaceChildren(tokenTable(body.tokens, load));
    } catch (error) {
      list.replaceChildren(el('p', { class: 'error', role: 'alert', text: error.message }));
    }
  };
  const form = el(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const body = await api('/tokens', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ role: role.value, label: label.value }),
          });
          const secret = el('input', { id: 'ma-vua-cap', type: 'text', readonly: true, value: body.secret });
          made.replaceChildren(el('div', { class: 'card' },
            el('h2', { text: `Mã truy cập số ${body.token.id} vừa được cấp` }),
            el('label', { for: 'ma-vua-cap', text: 'Mã truy cập (chỉ hiện một lần)' }), secret,
            el('p', { class: 'hint', text: 'Hãy sao chép và giao mã này cho người dùng ngay bây giờ: hệ thống không lưu mã và không hiện lại lần nữa.' })));
          label.value = '';
          await load();
          secret.focus();
          secret.select();
        } catch (error) {
          made.replaceChildren(el('p', { class: 'error', role: 'alert', text: TOKEN_ERRORS[error.code] || error.message }));
        }
      },
    },
    el('div', { class: 'grid' },
      el('div', {}, el('label', { for: 'vai-tro-moi', text: 'Vai trò' }), role),
      el('div', {}, el('label', { for: 'ten-ma-moi', text: 'Tên gợi nhớ' }), label)),
    el('button', { type: 'submit', text: 'Cấp mã truy cập' }),
  );
  show(page.title, el('p', { text: 'Các mã truy cập của cơ quan. Mã mới chỉ hiện một lần khi cấp; mã bị thu hồi không dùng được nữa.' }),
    el('h2', { text: 'Cấp mã mới' }), form, made, el('h2', { text: 'Mã đang dùng' }), list);
  await load();
}

function tokenTable(tokens, reload) {
  if (!tokens.length) return el('p', { text: 'Chưa có mã truy cập nào.' });
  return el(
    'table',
    { id: 'ma-truy-cap-bang' },
    el('thead', {}, el('tr', {}, ['Số', 'Vai trò', 'Tên gợi nhớ', 'Ngày cấp', 'Thao tác'].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, tokens.map((t) => el('tr', { 'data-id': t.id },
      el('td', { text: t.id }), el('td', { text: ROLE_NAMES[t.role] || 'Vai trò khác' }), el('td', { text: t.label || 'không có' }),
      el('td', { text: time(new Date(t.created_at_ms).toISOString()) }),
      el('td', {}, t.id === session.tokenId ? el('span', { class: 'hint', text: 'Mã đang đăng nhập' }) : el('button', {
        type: 'button',
        class: 'secondary',
        text: 'Thu hồi',
        'aria-label': `Thu hồi mã truy cập số ${t.id}`,
        onclick: async (event) => {
          const button = event.currentTarget;
          if (button.dataset.confirm !== 'yes') {
            button.dataset.confirm = 'yes';
            button.textContent = 'Bấm lần nữa để thu hồi';
            return;
          }
          await api(`/tokens/${t.id}/revoke`, { method: 'POST' });
          await reload();
        },
      }))))),
  );
}

const AUDIT_ACTIONS = {
  'component.reuse': 'Dùng lại kết quả số hóa đã có',
  'dossier.create': 'Tiếp nhận hồ sơ',
  'dossier.forward': 'Chuyển hồ sơ sang xử lý',
  'hold.place': 'Phong tỏa hủy tài liệu',
  'hold.release': 'Gỡ phong tỏa',
  'job.complete': 'Hoàn thành việc xử lý',
  'job.fail': 'Việc xử lý gặp lỗi',
  'job.output_refused': 'Từ chối kết quả nhận dạng',
  'job.requeue': 'Cho chạy lại việc bị dừng',
  'record.create': 'Lưu kết quả số hóa',
  'record.dispose': 'Hủy tài liệu hết thời hạn lưu trữ',
  'record.renew': 'Gia hạn chứng cứ lưu trữ',
  'record.revoke': 'Thu hồi kết quả số hóa',
  'record.supersede': 'Thay thế kết quả số hóa',
  'result.attach': 'Đính kèm dự thảo kết quả',
  'result.issue': 'Ban hành kết quả',
  'result.sign': 'Ký số kết quả',
  'result.signing_digest': 'Chuẩn bị ký bằng thiết bị ký số',
  'scan.correct': 'Sửa loại giấy tờ, thông tin trích xuất',
  'scan.unsealed': 'Bản quét không đóng dấu được',
  'scan.upload': 'Tải lên bản quét',
  'token.create': 'Cấp mã truy cập',
  'token.revoke': 'Thu hồi mã truy cập',
};
const AUDIT_FAMILIES = { dossier: 'Hồ sơ', scan: 'Bản quét', job: 'Việc xử lý', record: 'Kết quả số hóa', result: 'Kết quả giải quyết', hold: 'Phong tỏa', token: 'Mã truy cập' };

// `token:12` and `system` as a person reads them.
function actorName(actor) {
  if (actor === 'system') return 'Hệ thống';
  const [kind, id] = actor.split(':');
  return kind === 'token' ? `Mã truy cập số ${id}` : 'Không rõ';
}

function target(value) {
  if (!value) return 'không có';
  const [kind, id] = value.split(':');
  if (id === undefined) return value;
  const names = { token: 'Mã truy cập số', job: 'Việc số', record: 'Kết quả số hóa', dossier: 'Hồ sơ', scan: 'Bản quét số', result: 'Kết quả', hold: 'Phong tỏa số' };
  return `${names[kind] || 'Đối tượng'} ${id}`;
}

async function auditPage(page) {
  const action = el('select', { id: 'loai-thao-tac' }, el('option', { value: '', text: 'Mọi thao tác' }),
    Object.entries(AUDIT_FAMILIES).map(([v, t]) => el('option', { value: v, text: `${t}: mọi thao tác` })),
    Object.entries(AUDIT_ACTIONS).map(([v, t]) => el('option', { value: v, text: t })));
  const object = el('input', { id: 'doi-tuong', type: 'text', autocomplete: 'off' });
  const from = el('input', { id: 'tu-ngay', type: 'date' });
  const to = el('input', { id: 'den-ngay', type: 'date' });
  const area = el('section', { 'aria-live': 'polite', 'aria-label': 'Kết quả tìm trong nhật ký' });
  // a day in Vietnam's time, as Unix milliseconds
  const day = (value, plus) => Date.parse(`${value}T00:00:00+07:00`) + plus * 86400000;
  const search = async () => {
    const q = new URLSearchParams({ limit: '200' });
    if (action.value) q.set('action', action.value);
    if (object.value.trim()) q.set('target', object.value.trim());
    if (from.value) q.set('from_ms', String(day(from.value, 0)));
    if (to.value) q.set('to_ms', String(day(to.value, 1)));
    area.replaceChildren(el('p', { text: 'Đang tìm…' }));
    try {
      const body = await api(`/audit?${q}`);
      area.replaceChildren(auditTable(body.entries));
    } catch (error) {
      area.replaceChildren(el('p', { class: 'error', role: 'alert', text: error.message }));
    }
  };
  const form = el('form', { onsubmit: (event) => { event.preventDefault(); search(); } },
    el('div', { class: 'grid' },
      el('div', {}, el('label', { for: 'loai-thao-tac', text: 'Thao tác' }), action),
      el('div', {}, el('label', { for: 'doi-tuong', text: 'Đối tượng (mã hồ sơ, số kết quả…)' }), object),
      el('div', {}, el('label', { for: 'tu-ngay', text: 'Từ ngày' }), from),
      el('div', {}, el('label', { for: 'den-ngay', text: 'Đến ngày' }), to)),
    el('button', { type: 'submit', text: 'Tìm trong nhật ký' }));
  show(page.title, el('p', { text: 'Mọi thay đổi đều được ghi lại: ai làm, làm gì, với đối tượng nào, lúc nào.' }), form, area);
  await search();
}

function auditTable(entries) {
  if (!entries.length) return el('p', { text: 'Không có mục nào phù hợp.' });
  return el(
    'table',
    { id: 'nhat-ky-bang' },
    el('thead', {}, el('tr', {}, ['Thời điểm', 'Người thực hiện', 'Vai trò', 'Thao tác', 'Đối tượng'].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, entries.map((e) => el('tr', { 'data-action': e.action },
      el('td', { text: time(new Date(e.at_ms).toISOString()) }), el('td', { text: actorName(e.actor) }),
      el('td', { text: ROLE_NAMES[e.role] || (e.role === 'system' ? 'Hệ thống' : 'Không rõ') }),
      el('td', { text: AUDIT_ACTIONS[e.action] || 'Thao tác khác' }), el('td', { text: target(e.target) })))),
  );
}

// ---- scanning desk

const COMPONENT_STATUS = {
  missing: 'Chưa có',
  pending: 'Đang xử lý',
  digitized: 'Đã nhận dạng, đang đóng dấu',
  satisfied: 'Đạt',
  flagged: 'Cần kiểm tra lại',
  failed: 'Xử lý lỗi',
};
const SCAN_STATUS = {
  queued: 'Đang chờ nhận dạng',
  processing: 'Đang nhận dạng',
  done: 'Đã nhận dạng, đang đóng dấu số',
  sealed: 'Đã đóng dấu số',
  unsealed: 'Không đóng dấu được',
  failed: 'Không xử lý được',
};
const FLAGS = {
  wrong_type: 'Loại giấy tờ nhận ra không đúng với thành phần này.',
  wrong_owner: 'Số định danh trên giấy tờ không khớp với người nộp.',
  low_confidence: 'Máy chưa chắc chắn về loại giấy tờ; cán bộ cần xem lại.',
};
const FIELD_NAMES = {
  owner_id: 'Số định danh',
  full_name: 'Họ và tên',
  date_of_birth: 'Ngày sinh',
  issue_date: 'Ngày cấp',
  expiry_date: 'Có giá trị đến',
  document_number: 'Số văn bản',
  issuing_agency: 'Cơ quan cấp',
  address: 'Địa chỉ',
  enterprise_code: 'Mã số doanh nghiệp',
  enterprise_name: 'Tên doanh nghiệp',
  subject: 'Nội dung đề nghị',
};
const DOSSIER_STATUS = { received: 'Đã tiếp nhận', complete: 'Đủ thành phần, chờ chuyển xử lý', in_processing: 'Đã chuyển xử lý' };
// A dossier the desk still works on: components may be scanned, reused and corrected.
const atDesk = (d) => d.status === 'received' || d.status === 'complete';
const SERVER_ERRORS = {
  invalid_citizen_id: 'Số định danh cá nhân không hợp lệ.',
  invalid_enterprise_code: 'Mã số doanh nghiệp không hợp lệ.',
  unknown_procedure: 'Không có thủ tục này.',
  upload_too_large: 'Tệp quá lớn.',
  unsupported_media_type: 'Tệp không phải ảnh quét hay PDF được hỗ trợ.',
  corrupt_image: 'Ảnh bị hỏng, không đọc được.',
  too_many_pixels: 'Ảnh quá lớn.',
  empty_upload: 'Tệp rỗng.',
  invalid_reason: 'Lý do cần từ 1 đến 1000 ký tự.',
};

// Where an identifier breaks the rules, in words; null when it keeps them.
const PROVINCES = new Set([1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37, 38, 40, 42, 44,
  45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77, 79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96]);
function idProblem(kind, id) {
  if (!id) return 'Chưa nhập.';
  if (kind === 'citizen') {
    if (!/^\d+$/.test(id)) return 'Số định danh chỉ gồm chữ số.';
    if (id.length === 9) return null;
    if (id.length !== 12) return `Số định danh cá nhân có 12 chữ số (chứng minh nhân dân cũ: 9); đã nhập ${id.length}.`;
    if (!PROVINCES.has(Number(id.slice(0, 3)))) return `Ba chữ số đầu (${id.slice(0, 3)}) không phải mã tỉnh, thành phố nơi đăng ký khai sinh.`;
    if (id[3] > '5') return 'Chữ số thứ tư (thế kỷ và giới tính) chỉ từ 0 đến 5.';
    return null;
  }
  if (!/^\d{10}(-\d{3})?$/.test(id)) return 'Mã số doanh nghiệp gồm 10 chữ số, đơn vị phụ thuộc thêm dấu gạch và 3 chữ số.';
  return null;
}

function serverError(error) {
  return (error.code && SERVER_ERRORS[error.code]) || error.message;
}

async function intake(page) {
  const list = await api('/procedures');
  const procedures = list.procedures.sort((a, b) => a.name.localeCompare(b.name, 'vi'));
  const status = el('p', { id: 'tiep-nhan-loi', class: 'error', role: 'alert' });
  const search = el('input', { id: 'tim-thu-tuc', type: 'search', autocomplete: 'off', 'aria-controls': 'thu-tuc' });
  const select = el('select', { id: 'thu-tuc', size: 6, required: true });
  const fill = () => {
    const words = search.value.trim().toLocaleLowerCase('vi').split(/\s+/).filter(Boolean);
    const shown = procedures.filter((p) => words.every((w) => `${p.name} ${p.code}`.toLocaleLowerCase('vi').includes(w)));
    select.replaceChildren(...shown.map((p) => el('option', { value: p.code, text: `${p.name} (${p.code})` })));
    if (shown.length === 1) select.value = shown[0].code;
  };
  search.addEventListener('input', fill);
  fill();
  const kind = el('select', { id: 'loai-nguoi-nop' }, el('option', { value: 'citizen', text: 'Công dân' }), el('option', { value: 'enterprise', text: 'Doanh nghiệp' }));
  const idHint = el('p', { id: 'so-dinh-danh-goi-y', class: 'hint', 'aria-live': 'polite' });
  const id = el('input', { id: 'so-dinh-danh', type: 'text', inputmode: 'numeric', autocomplete: 'off', required: true, 'aria-describedby': 'so-dinh-danh-goi-y' });
  const checkId = () => {
    const problem = idProblem(kind.value, id.value.trim());
    id.setAttribute('aria-invalid', problem && id.value ? 'true' : 'false');
    idHint.textContent = id.value ? problem || 'Hợp lệ.' : '';
    idHint.className = problem && id.value ? 'hint error' : 'hint';
    return problem;
  };
  id.addEventListener('input', checkId);
  kind.addEventListener('change', checkId);
  const name = el('input', { id: 'ten-nguoi-nop', type: 'text', autocomplete: 'off', required: true });
  const form = el(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        status.textContent = '';
        if (!select.value) {
          status.textContent = 'Vui lòng chọn thủ tục.';
          return;
        }
        const problem = checkId();
        if (problem) {
          status.textContent = `Số định danh chưa đúng: ${problem}`;
          id.focus();
          return;
        }
        if (!name.value.trim()) {
          status.textContent = 'Vui lòng nhập họ tên người nộp.';
          return;
        }
        try {
          const body = { procedure: select.value, applicant: { kind: kind.value, id: id.value.trim(), name: name.value.trim() } };
          const created = await api('/dossiers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
          location.hash = `#/ho-so/${encodeURIComponent(created.code)}`;
        } catch (error) {
          status.textContent = serverError(error);
        }
      },
    },
    el('label', { for: 'tim-thu-tuc', text: 'Tìm thủ tục theo tên hoặc mã' }),
    search,
    el('label', { for: 'thu-tuc', text: 'Thủ tục' }),
    select,
    el('div', { class: 'grid' },
      el('div', {}, el('label', { for: 'loai-nguoi-nop', text: 'Người nộp là' }), kind),
      el('div', {}, el('label', { for: 'so-dinh-danh', text: 'Số định danh cá nhân hoặc mã số doanh nghiệp' }), id, idHint),
      el('div', {}, el('label', { for: 'ten-nguoi-nop', text: 'Họ tên người nộp hoặc tên doanh nghiệp' }), name),
    ),
    el('button', { type: 'submit', text: 'Tạo hồ sơ' }),
    status,
  );
  show(page.title, form);
}

let watching = null; // the dossier whose scans are being followed, and its timer

async function dossier(page, code) {
  if (watching) clearTimeout(watching.timer);
  watching = { code, timer: null };
  const area = el('div', {});
  const live = el('p', { class: 'hint', 'aria-live': 'polite', id: 'trang-thai-cap-nhat' });
  show(`${page.title} ${code}`, live, area);
  const { titles } = await catalogTypes();
  const records = {};
  const read = {}; // what the machine read on each sealed scan, by scan and record version
  // a correction being written, or opened while the dossier was fetched, is not wiped by a
  // refresh: the refresh waits for the next second
  const correcting = () => {
    if (!area.querySelector('details[open]')) return false;
    watching.timer = setTimeout(draw, 1000);
    return true;
  };
  const draw = async () => {
    if (!watching || watching.code !== code) return;
    if (correcting()) return;
    let d;
    try {
      d = await api(`/dossiers/${encodeURIComponent(code)}`);
    } catch (error) {
      area.replaceChildren(el('p', { class: 'error', role: 'alert', text: error.message }));
      return;
    }
    for (const item of d.checklist) {
      if (item.record && !records[item.record]) records[item.record] = await api(`/records/${encodeURIComponent(item.record)}`).catch(() => null);
      const scan = item.record && !item.reused ? sealedScan(d, item.component) : null;
      if (scan && !(`${scan.id}/${item.record}` in read)) read[`${scan.id}/${item.record}`] = await readPages(scan.id).catch(() => null);
    }
    if (correcting()) return;
    const focused = document.activeElement && document.activeElement.id;
    area.replaceChildren(...dossierView(d, titles, records, read, draw));
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    const busy = d.scans.some((s) => ['queued', 'processing', 'done'].includes(s.status));
    live.textContent = busy ? 'Đang theo dõi các bản quét: trang tự cập nhật.' : '';
    if (busy) watching.timer = setTimeout(draw, 1000);
  };
  await draw();
}

function dossierView(d, titles, records, read, redraw) {
  const required = d.checklist.filter((c) => c.required);
  const done = required.filter((c) => c.status === 'satisfied').length;
  const head = el(
    'dl',
    { class: 'card' },
    el('dt', { text: 'Thủ tục' }), el('dd', { text: `${d.procedure_name || d.procedure} (${d.procedure})` }),
    el('dt', { text: 'Người nộp' }), el('dd', { text: `${d.applicant.name} · ${d.applicant.id}` }),
    el('dt', { text: 'Tình trạng' }), el('dd', { id: 'tinh-trang-ho-so', text: DOSSIER_STATUS[d.status] || 'Đang xử lý' }),
    el('dt', { text: 'Thành phần bắt buộc đã đạt' }), el('dd', { id: 'da-dat', text: `${done}/${required.length}` }),
    el('dt', { text: 'Hạn trả kết quả' }), el('dd', { text: time(d.due_at) }),
  );
  const items = d.checklist.map((c, i) => component(d, c, i, titles, records, read, redraw));
  return [head, el('h2', { text: 'Thành phần hồ sơ' }), ...items, forwardForm(d, done === required.length, redraw)];
}

const sealedScan = (d, component) => [...d.scans].reverse().find((s) => s.component === component && s.status === 'sealed');

function component(d, c, i, titles, records, read, redraw) {
  const scans = d.scans.filter((s) => s.component === c.component);
  const section = el('section', { class: 'card', 'aria-labelledby': `tp-${i}`, 'data-component': c.component });
  const record = c.record ? records[c.record] : null;
  const parts = [
    el('h3', { id: `tp-${i}`, text: `${c.name || c.component}${c.required ? ' (bắt buộc)' : ' (không bắt buộc)'}` }),
    el('p', {}, 'Tình trạng: ', el('strong', { class: 'tinh-trang', text: COMPONENT_STATUS[c.status] || 'Đang xử lý' }), c.reused ? ' · dùng lại kết quả đã có' : ''),
  ];
  if (c.condition) parts.push(el('p', { class: 'hint', text: `Khi nào cần: ${c.condition}` }));
  for (const flag of c.flags || []) parts.push(el('p', { class: 'error', 'data-flag': flag, text: FLAGS[flag] || 'Cần cán bộ kiểm tra lại.' }));
  if (record) parts.push(recordSummary(record, titles));
  const scan = sealedScan(d, c.component);
  const editable = record && scan && atDesk(d) && !c.reused;
  const view = scan && c.record && read[`${scan.id}/${c.record}`];
  if (view) parts.push(...fieldFrames(view, i, editable));
  if (editable) parts.push(correction(scan, record, i, titles, redraw));
  if (scans.length) {
    parts.push(
      el('ul', { class: 'scans' },
        scans.map((s) =>
          el('li', { 'data-scan': s.id },
            `Bản quét số ${s.id}, ${s.pages} trang: `,
            el('span', { class: 'scan-status', text: SCAN_STATUS[s.status] || 'Đang xử lý' }),
            s.quality && s.quality.rescan_advised
              ? el('ul', { class: 'error' }, s.quality.findings.map((f) => el('li', { text: `Trang ${f.page}: ${f.reason}` })))
              : null,
          ),
        ),
      ),
    );
  }
  if (atDesk(d) && c.status !== 'satisfied') {
    for (const offer of c.reuse_candidates || []) {
      parts.push(
        el('div', { class: 'offer' },
          el('p', { text: `Đã có ${titles[offer.doc_type] || 'giấy tờ'} số ${offer.number || 'không ghi'} do ${offer.agency} cấp ngày ${date(offer.issue_date)}, hiệu lực đến ${offer.valid_until ? date(offer.valid_until) : 'không thời hạn'}.` }),
          el('button', {
            type: 'button',
            text: 'Dùng lại giấy tờ này',
            onclick: async () => {
              await api(`/dossiers/${encodeURIComponent(d.code)}/components/${encodeURIComponent(c.component)}/reuse`, {
                method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ record: offer.record }),
              });
              await redraw();
            },
          }),
        ),
      );
    }
    const input = el('input', { id: `tep-${i}`, class: 'file-input', type: 'file', multiple: true, accept: 'image/png,image/jpeg,image/tiff,application/pdf' });
    const said = el('p', { class: 'file-name', 'aria-live': 'polite' });
    const send = async (files) => {
      for (const [n, file] of files.entries()) {
        said.textContent = `Đang gửi tệp ${n + 1}/${files.length}: ${file.name}`;
        try {
          const response = await fetch(`/api/v1/dossiers/${encodeURIComponent(d.code)}/components/${encodeURIComponent(c.component)}/scans`, {
            method: 'POST',
            headers: { authorization: `Bearer ${session.token}`, 'content-type': file.type || 'application/octet-stream' },
            body: file,
          });
          const body = await response.json().catch(() => null);
          if (!response.ok) throw Object.assign(new Error(messageFor(response.status, body)), { code: body && body.code });
        } catch (error) {
          said.textContent = `Tệp ${file.name}: ${serverError(error)}`;
          return;
        }
      }
      said.textContent = `Đã gửi ${files.length} tệp.`;
      await redraw();
    };
    input.addEventListener('change', () => send([...input.files]));
    // files dropped from the scanner's folder go the same way as files picked
    const zone = el('div', { class: 'upload drop-zone', 'data-component': c.component },
      input, el('label', { for: `tep-${i}`, class: 'file-button', text: 'Chọn các trang đã quét' }),
      el('span', { class: 'drop-hint', text: 'hoặc kéo thả các tệp vào đây' }), said);
    zone.addEventListener('dragover', (event) => {
      event.preventDefault();
      zone.classList.add('dragging');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
    zone.addEventListener('drop', (event) => {
      event.preventDefault();
      zone.classList.remove('dragging');
      const files = [...(event.dataTransfer ? event.dataTransfer.files : [])];
      if (files.length) send(files);
    });
    parts.push(zone);
  }
  section.append(...parts.flat().filter(Boolean));
  return section;
}

function recordSummary(r, titles) {
  const rows = [['Loại giấy tờ máy nhận ra', titles[r.doc_type] || r.doc_type]];
  if (r.classification && typeof r.classification.confidence === 'number') rows.push(['Độ tin cậy', `${Math.round(r.classification.confidence * 100)} %`]);
  for (const [name, f] of Object.entries(r.fields || {})) {
    rows.push([FIELD_NAMES[name] || 'Thông tin khác', /^\d{4}-\d{2}-\d{2}$/.test(f.value) ? date(f.value) : f.value]);
  }
  rows.push(['Chữ ký số', (r.signatures || []).length ? 'Đã đóng dấu số của cơ quan' : 'Chưa có']);
  return el('dl', { class: 'record' }, rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
}

// The pages of a sealed scan's copy that hold a field the machine read, drawn by the service
// once (the dossier's page is redrawn every second while scans are busy), with the fields.
async function readPages(scan) {
  const view = await api(`/scans/${scan}/pages`);
  const images = {};
  for (const p of view.pages.filter((p) => view.fields.some((f) => f.boxes.some((b) => b.page === p.page)))) {
    images[p.page] = await previewUrl(`/scans/${scan}/pages/${p.page}/preview`, 560);
  }
  return { ...view, images };
}

// Each page read, a frame around each field where it was read (its words' boxes joined); a
// frame opens the correction at that field.
function fieldFrames(view, i, editable) {
  const percent = (v) => `${(v * 100).toFixed(2)}%`;
  return view.pages.filter((p) => view.images[p.page]).map((p) => {
    const img = el('img', { src: view.images[p.page], alt: `Trang ${p.page} của bản quét số ${view.scan}`, width: 560, height: Math.round((560 * p.height) / p.width) });
    const sheet = el('div', { class: 'read-page' }, img);
    for (const f of view.fields) {
      const boxes = f.boxes.filter((b) => b.page === p.page);
      if (!boxes.length) continue;
      const [x, y] = [Math.min(...boxes.map((b) => b.x)), Math.min(...boxes.map((b) => b.y))];
      const [right, bottom] = [Math.max(...boxes.map((b) => b.x + b.w)), Math.max(...boxes.map((b) => b.y + b.h))];
      const name = FIELD_NAMES[f.name] || 'Thông tin khác';
      const shown = /^\d{4}-\d{2}-\d{2}$/.test(f.value) ? date(f.value) : f.value;
      // named by its text, the value read out but not drawn over the page
      // an id of its own, so that a refresh gives the keyboard focus back to the frame it was on
      const frame = el(editable ? 'button' : 'span', { type: editable && 'button', id: `khung-${i}-${p.page}-${f.name}`, class: 'field-box', 'data-field': f.name, onclick: editable && (() => edit(i, f.name)) },
        el('span', { class: 'field-name', text: name }),
        el('span', { class: 'visually-hidden', text: `: ${shown}${editable ? '. Sửa thông tin này' : ''}` }));
      Object.assign(frame.style, { left: percent(x), top: percent(y), width: percent(right - x), height: percent(bottom - y) });
      sheet.append(frame);
    }
    return el('figure', { class: 'read-figure' }, sheet,
      el('figcaption', { class: 'hint', text: `Trang ${p.page}: mỗi thông tin máy đọc được đóng khung tại chỗ đọc được${editable ? '; chọn khung để sửa thông tin đó' : ''}.` }));
  });
}

function edit(i, name) {
  const input = document.getElementById(`sua-${i}-${name}`) || document.getElementById(`sua-loai-${i}`);
  if (!input) return;
  input.closest('details').open = true;
  input.focus();
}

// The desk corrects what the machine read: the type and the fields, as a new version of the
// record (the sealed one is kept and superseded).
function correction(scan, record, i, titles, redraw) {
  const types = Object.keys(titles);
  const status = el('p', { class: 'error', role: 'alert' });
  const type = el('select', { id: `sua-loai-${i}` }, types.map((t) => el('option', { value: t, text: titles[t], selected: t === record.doc_type })));
  const inputs = el('div', { class: 'grid' });
  const fieldsOf = (t) => ['owner_id', ...((docTypes ? docTypes.fields[t] || [] : []).filter((f) => f !== 'owner_id'))];
  const fill = () => {
    const current = record.fields || {};
    inputs.replaceChildren(
      ...fieldsOf(type.value).map((name) => {
        const isDate = ['issue_date', 'date_of_birth', 'expiry_date'].includes(name);
        const value = current[name] ? current[name].value : name === 'owner_id' && record.owner_id ? record.owner_id : '';
        return el('div', {},
          el('label', { for: `sua-${i}-${name}`, text: FIELD_NAMES[name] || 'Thông tin khác' }),
          el('input', { id: `sua-${i}-${name}`, name, type: isDate ? 'date' : 'text', value, autocomplete: 'off' }));
      }),
    );
  };
  type.addEventListener('change', fill);
  fill();
  const form = el(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const fields = {};
        for (const input of inputs.querySelectorAll('input')) if (input.value.trim()) fields[input.name] = input.value.trim();
        try {
          await api(`/scans/${scan.id}/correction`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ doc_type: type.value, fields }) });
          details.open = false;
          await redraw();
        } catch (error) {
          status.textContent = error.code === 'invalid_field' ? 'Có thông tin chưa đúng định dạng (số định danh, ngày tháng).' : serverError(error);
        }
      },
    },
    el('label', { for: `sua-loai-${i}`, text: 'Loại giấy tờ' }),
    type,
    inputs,
    el('button', { type: 'submit', text: 'Lưu bản đã sửa' }),
    status,
  );
  const details = el('details', { class: 'correct' }, el('summary', { text: 'Sửa loại giấy tờ và thông tin' }), form);
  return details;
}

function forwardForm(d, complete, redraw) {
  if (!atDesk(d)) return el('p', { id: 'da-chuyen', text: 'Hồ sơ đã được chuyển xử lý.' });
  const status = el('p', { class: 'error', role: 'alert' });
  const reason = el('textarea', { id: 'ly-do', rows: 2, 'aria-describedby': 'ly-do-goi-y' });
  return el(
    'form',
    {
      class: 'card',
      onsubmit: async (event) => {
        event.preventDefault();
        const body = complete ? {} : { override_reason: reason.value.trim() };
        if (!complete && !body.override_reason) {
          status.textContent = 'Hồ sơ còn thiếu thành phần bắt buộc: cần ghi lý do để chuyển.';
          reason.focus();
          return;
        }
        try {
          await api(`/dossiers/${encodeURIComponent(d.code)}/forward`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
          await redraw();
        } catch (error) {
          status.textContent = serverError(error);
        }
      },
    },
    el('h2', { text: 'Chuyển hồ sơ đến bộ phận giải quyết' }),
    complete ? el('p', { text: 'Hồ sơ đã đủ các thành phần bắt buộc.' }) : [
      el('label', { for: 'ly-do', text: 'Lý do chuyển khi hồ sơ chưa đủ' }),
      reason,
      el('p', { id: 'ly-do-goi-y', class: 'hint', text: 'Lý do được ghi vào nhật ký kiểm tra.' }),
    ],
    el('button', { type: 'submit', text: 'Chuyển xử lý' }),
    status,
  );
}

// ---- signing desk: results waiting for this official, placed, signed, issued, verified

const RESULT_EVENTS = { attached: 'Đính kèm bản dự thảo', signed: 'Ký bằng khóa do hệ thống giữ', signed_deferred: 'Ký bằng thiết bị ký số của người ký' };
// The box a signature shows in, in points, as the service places it by default: bottom
// right, above the margin.
const SIGNATURE_BOX = { width: 230, height: 90, margin: 56 };
const SIGNING_ERRORS = {
  not_your_turn: 'Chưa đến lượt bạn ký kết quả này.',
  signers_done: 'Những người có thẩm quyền đã ký đủ.',
  signatures_missing: 'Kết quả còn chờ chữ ký của người khác.',
  result_unsigned: 'Kết quả chưa có chữ ký nào.',
  result_issued: 'Kết quả đã được ban hành.',
  result_changed: 'Kết quả vừa được người khác ký; vui lòng mở lại trang.',
  no_server_key: 'Hệ thống không giữ khóa ký của bạn: hãy ký bằng thiết bị ký số của bạn.',
  signature_invalid: 'Chữ ký không khớp với chứng thư số hoặc chứng thư không được tin cậy.',
  invalid_certificate: 'Tệp chứng thư số không đọc được.',
  unsupported_key: 'Khóa của chứng thư không phải RSA hay ECDSA P-256.',
  invalid_rect: 'Ô chữ ký phải nằm trọn trong trang.',
  session_expired: 'Phiên ký đã hết hạn; vui lòng ký lại.',
};

function signingError(error) {
  return (error.code && SIGNING_ERRORS[error.code]) || serverError(error);
}

async function waitingResults(page) {
  const area = el('section', { 'aria-live': 'polite', 'aria-label': 'Kết quả chờ ký' });
  show(page.title, el('p', { text: 'Các kết quả giải quyết đang chờ chữ ký số của bạn, theo thứ tự người ký đã được phân công.' }), area);
  const { titles } = await catalogTypes();
  try {
    const body = await api('/results?waiting=me');
    if (!body.results.length) {
      area.replaceChildren(el('p', { id: 'khong-co-ket-qua', text: 'Không có kết quả nào đang chờ bạn ký.' }));
      return;
    }
    area.replaceChildren(
      el('table', { id: 'cho-ky' },
        el('caption', { class: 'hint', text: `${body.results.length} kết quả chờ ký` }),
        el('thead', {}, el('tr', {}, ['Kết quả', 'Số', 'Hồ sơ', 'Người ký theo thứ tự', 'Đính kèm lúc'].map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', {}, body.results.map((r) =>
          el('tr', { 'data-result': r.id },
            el('td', {}, el('a', { href: `#/ket-qua/${encodeURIComponent(r.id)}`, text: titles[r.doc_type] || r.doc_type })),
            el('td', { text: r.number || 'chưa có số' }),
            el('td', { text: r.dossier }),
            el('td', { text: r.signers.length ? r.signers.join(' → ') : 'Bất kỳ người có thẩm quyền nào' }),
            el('td', { text: time(r.created_at) }),
          ))),
      ),
    );
  } catch (error) {
    area.replaceChildren(el('p', { class: 'error', role: 'alert', text: error.message }));
  }
}

async function resultPage(page, id) {
  let r;
  try {
    r = await api(`/results/${encodeURIComponent(id)}`);
  } catch (error) {
    show(page.title, el('p', { class: 'error', role: 'alert', text: error.message }));
    return;
  }
  const { titles } = await catalogTypes();
  const signerRows = r.signers.length
    ? r.signers.map((s, i) => el('li', { 'data-signer': s, text: `${s}: ${i < r.signatures ? 'đã ký' : i === r.signatures ? 'đến lượt ký' : 'chưa đến lượt'}` }))
    : [el('li', { text: 'Bất kỳ người có thẩm quyền nào của cơ quan' })];
  const info = el('dl', { class: 'card' },
    el('dt', { text: 'Loại giấy tờ' }), el('dd', { text: titles[r.doc_type] || r.doc_type }),
    el('dt', { text: 'Số' }), el('dd', { text: r.number || 'chưa có số' }),
    el('dt', { text: 'Hồ sơ' }), el('dd', { text: r.dossier }),
    el('dt', { text: 'Tình trạng' }), el('dd', { id: 'tinh-trang-ket-qua', text: r.status === 'issued' ? 'Đã ban hành' : 'Bản dự thảo, đang ký' }),
    el('dt', { text: 'Số chữ ký đã có' }), el('dd', { id: 'so-chu-ky', text: String(r.signatures) }),
    el('dt', { text: 'Người ký theo thứ tự' }), el('dd', {}, el('ol', { class: 'signers' }, signerRows)),
  );
  const history = el('details', { class: 'history' }, el('summary', { text: 'Các phiên bản' }),
    el('ol', {}, r.versions.map((v) => el('li', { text: `${RESULT_EVENTS[v.event] || 'Thay đổi'}${v.signer ? `: ${v.signer}` : ''}, lúc ${time(v.at)}` }))));
  const title = `${page.title}: ${titles[r.doc_type] || r.doc_type}`;
  if (r.status === 'issued') {
    const verification = el('section', { 'aria-live': 'polite', 'aria-label': 'Xác minh kết quả đã ban hành', id: 'xac-minh-ket-qua' });
    const signedPage = el('img', { class: 'signed-page', id: 'ban-da-ky', alt: '' });
    show(title, info, history, el('h2', { text: 'Xác minh bản đã ban hành' }), verification, el('h2', { text: 'Trang cuối của bản đã ký' }), signedPage);
    await verifyResult(r, verification);
    const { pages } = await api(`/results/${encodeURIComponent(r.id)}/pages`).catch(() => ({ pages: [] }));
    if (pages.length) await drawPage(r, pages[pages.length - 1].number, 520, signedPage);
    return;
  }
  const status = el('p', { class: 'error', role: 'alert', id: 'ky-so-loi' });
  const done = el('p', { 'aria-live': 'polite', id: 'ky-so-trang-thai' });
  const mayIssue = r.signatures > 0 && r.signers.length <= r.signatures;
  const myTurn = r.signers.length ? r.next_signer === session.label : true;
  const parts = [info, history];
  if (myTurn && !(r.signers.length && r.signers.length <= r.signatures)) {
    parts.push(await signingForm(r, status, done));
  } else if (!mayIssue) {
    parts.push(el('p', { class: 'card', id: 'cho-nguoi-khac', text: `Kết quả đang chờ ${r.next_signer} ký.` }));
  }
  if (mayIssue) {
    parts.push(el('section', { class: 'card', 'aria-labelledby': 'ban-hanh' },
      el('h2', { id: 'ban-hanh', text: 'Ban hành kết quả' }),
      el('p', { text: 'Những người có thẩm quyền đã ký đủ. Khi ban hành, kết quả được lưu trữ, ghi vào sổ minh bạch và trở thành giấy tờ của người nộp để dùng lại.' }),
      el('button', {
        type: 'button',
        text: 'Ban hành kết quả',
        onclick: async () => {
          status.textContent = '';
          try {
            await api(`/results/${encodeURIComponent(r.id)}/issue`, { method: 'POST' });
            await route();
          } catch (error) {
            status.textContent = signingError(error);
          }
        },
      })));
  }
  show(title, ...parts, done, status);
}

// The page the signature goes on, drawn by the service, with a box the official drags (or
// moves with the arrow keys) where the signature belongs; then signed with the key the
// service holds or with the official's own key, which never leaves the browser.
async function signingForm(r, status, done) {
  const { pages } = await api(`/results/${encodeURIComponent(r.id)}/pages`);
  const shownWidth = 520;
  let current = pages[pages.length - 1];
  let box = { x: 0, y: 0 };
  const sheet = el('div', { class: 'sheet' });
  const image = el('img', { alt: '', class: 'sheet-page' });
  const position = el('p', { id: 'vi-tri-chu-ky', class: 'hint', 'aria-live': 'polite' });
  const handle = el('div', {
    class: 'sig-box', tabindex: '0', role: 'group', 'aria-roledescription': 'ô chữ ký',
    'aria-label': 'Ô chữ ký: kéo bằng chuột hoặc dùng các phím mũi tên để đặt', 'aria-describedby': 'vi-tri-chu-ky',
  }, 'Chữ ký số');
  sheet.append(image, handle);
  const scale = () => shownWidth / current.width;
  const place = () => {
    box.x = Math.min(Math.max(box.x, 0), current.width - SIGNATURE_BOX.width);
    box.y = Math.min(Math.max(box.y, 0), current.height - SIGNATURE_BOX.height);
    const s = scale();
    handle.style.left = `${box.x * s}px`;
    handle.style.top = `${(current.height - box.y - SIGNATURE_BOX.height) * s}px`;
    handle.style.width = `${SIGNATURE_BOX.width * s}px`;
    handle.style.height = `${SIGNATURE_BOX.height * s}px`;
    handle.dataset.x = String(Math.round(box.x));
    handle.dataset.y = String(Math.round(box.y));
    position.textContent = `Trang ${current.number}: cách lề trái ${Math.round(box.x)} điểm, cách mép dưới ${Math.round(box.y)} điểm.`;
  };
  const load = async () => {
    const s = scale();
    sheet.style.width = `${shownWidth}px`;
    sheet.style.height = `${current.height * s}px`;
    box = { x: current.width - SIGNATURE_BOX.margin - SIGNATURE_BOX.width, y: SIGNATURE_BOX.margin };
    place();
    if (!(await drawPage(r, current.number, shownWidth, image))) status.textContent = 'Không xem trước được trang này.';
  };
  let drag = null;
  handle.addEventListener('pointerdown', (event) => {
    event.preventDefault();
    handle.setPointerCapture(event.pointerId);
    handle.focus();
    drag = { px: event.clientX, py: event.clientY, x: box.x, y: box.y };
  });
  handle.addEventListener('pointermove', (event) => {
    if (!drag) return;
    const s = scale();
    box.x = drag.x + (event.clientX - drag.px) / s;
    box.y = drag.y - (event.clientY - drag.py) / s;
    place();
  });
  const drop = () => {
    drag = null;
  };
  handle.addEventListener('pointerup', drop);
  handle.addEventListener('pointercancel', drop);
  handle.addEventListener('keydown', (event) => {
    const step = event.shiftKey ? 20 : 5;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    box.x += move[0];
    box.y += move[1];
    place();
  });
  const pageChoice = pages.length > 1
    ? [el('label', { for: 'trang-ky', text: 'Trang đặt chữ ký' }),
      el('select', {
        id: 'trang-ky',
        onchange: async (event) => {
          current = pages.find((p) => String(p.number) === event.target.value);
          await load();
        },
      }, pages.map((p) => el('option', { value: p.number, text: `Trang ${p.number}`, selected: p === current })))]
    : [];
  // The box in the page's own coordinates: its corners mapped from the page as shown.
  const rect = () => {
    const [a, b, c, d, e, f] = current.to_user;
    const corners = [[box.x, box.y], [box.x + SIGNATURE_BOX.width, box.y + SIGNATURE_BOX.height]].map(([x, y]) => [a * x + c * y + e, b * x + d * y + f]);
    const xs = corners.map((p) => p[0]);
    const ys = corners.map((p) => p[1]);
    const round = (v) => Math.round(v * 100) / 100;
    return [round(Math.min(...xs)), round(Math.min(...ys)), round(Math.max(...xs) - Math.min(...xs)), round(Math.max(...ys) - Math.min(...ys))];
  };
  const reason = el('input', { id: 'ly-do-ky', type: 'text', value: 'Phê duyệt kết quả giải quyết thủ tục hành chính', autocomplete: 'off' });
  const where = el('input', { id: 'noi-ky', type: 'text', autocomplete: 'off' });
  const certificate = el('input', { id: 'chung-thu', class: 'file-input', type: 'file', accept: '.cer,.crt,.pem,.der' });
  const key = el('input', { id: 'khoa-ky', class: 'file-input', type: 'file', accept: '.p8,.pem,.key,.der' });
  const chosen = (input) => {
    const said = el('p', { class: 'file-name', text: 'Chưa chọn tệp.' });
    input.addEventListener('change', () => {
      said.textContent = input.files[0] ? `Tệp đã chọn: ${input.files[0].name}` : 'Chưa chọn tệp.';
    });
    return said;
  };
  const placement = () => {
    const body = { page: current.number, rect: rect(), reason: reason.value.trim() || undefined, location: where.value.trim() || undefined };
    return body;
  };
  const signed = async (what) => {
    done.textContent = what;
    await route();
  };
  const serverSign = el('button', {
    type: 'button',
    id: 'ky-khoa-he-thong',
    text: 'Ký bằng khóa do hệ thống giữ',
    onclick: async () => {
      status.textContent = '';
      done.textContent = 'Đang ký…';
      try {
        await api(`/results/${encodeURIComponent(r.id)}/sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(placement()) });
        await signed('Đã ký.');
      } catch (error) {
        done.textContent = '';
        status.textContent = signingError(error);
      }
    },
  });
  const tokenSign = el('button', {
    type: 'button',
    id: 'ky-thiet-bi',
    text: 'Ký bằng khóa của tôi',
    onclick: async () => {
      status.textContent = '';
      if (!certificate.files[0] || !key.files[0]) {
        status.textContent = 'Vui lòng chọn tệp chứng thư số và tệp khóa ký.';
        return;
      }
      done.textContent = 'Đang ký…';
      try {
        const cert = derOf(await certificate.files[0].arrayBuffer(), 'CERTIFICATE');
        const p = placement();
        const query = new URLSearchParams({ certificate: base64url(cert), page: String(p.page), rect: p.rect.join(',') });
        if (p.reason) query.set('reason', p.reason);
        if (p.location) query.set('location', p.location);
        const prepared = await api(`/results/${encodeURIComponent(r.id)}/signing-digest?${query}`);
        const signature = await signInBrowser(await key.files[0].arrayBuffer(), prepared.algorithm, bytesOf(prepared.signed_attributes));
        await api(`/results/${encodeURIComponent(r.id)}/signature`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ session: prepared.session, signature: base64(signature) }),
        });
        await signed('Đã ký.');
      } catch (error) {
        done.textContent = '';
        status.textContent = error.code || error.status
          ? signingError(error)
          : 'Không ký được: tệp chứng thư số hoặc tệp khóa không đọc được, hoặc khóa không hợp với chứng thư số.';
      }
    },
  });
  const form = el('section', { class: 'card signing', 'aria-labelledby': 'ky-so-tieu-de' },
    el('h2', { id: 'ky-so-tieu-de', text: 'Đặt chữ ký và ký số' }),
    el('div', { class: 'sign-grid' },
      el('div', {}, ...pageChoice, sheet, position),
      el('div', {},
        el('label', { for: 'ly-do-ky', text: 'Lý do ký' }), reason,
        el('label', { for: 'noi-ky', text: 'Nơi ký (không bắt buộc)' }), where,
        el('h3', { text: 'Khóa do hệ thống giữ' }),
        el('p', { class: 'hint', text: 'Dùng khi cơ quan đã giao khóa ký của bạn cho hệ thống quản lý.' }),
        serverSign,
        el('h3', { text: 'Khóa của riêng bạn' }),
        el('p', { class: 'hint', text: 'Trình duyệt tự ký; khóa bí mật không rời khỏi máy của bạn, hệ thống chỉ nhận chữ ký.' }),
        el('div', { class: 'upload' }, certificate, el('label', { for: 'chung-thu', class: 'file-button', text: 'Chọn tệp chứng thư số' }), chosen(certificate)),
        el('div', { class: 'upload' }, key, el('label', { for: 'khoa-ky', class: 'file-button', text: 'Chọn tệp khóa ký' }), chosen(key)),
        tokenSign,
      ),
    ),
  );
  await load();
  return form;
}

// Page `number` of the result's current version, drawn by the service for `width` CSS pixels,
// into `image`; false when it cannot be drawn.
async function drawPage(r, number, width, image) {
  const url = await previewUrl(`/results/${encodeURIComponent(r.id)}/pages/${number}/preview`, width);
  if (!url) return false;
  if (image.src) URL.revokeObjectURL(image.src);
  image.src = url;
  image.alt = `Trang ${number} của kết quả`;
  image.dataset.loaded = 'true';
  return true;
}

// A page drawn by the service at `path` (a preview route) for `width` CSS pixels, as a blob
// URL; null when it cannot be drawn.
async function previewUrl(path, width) {
  const pixels = Math.min(1600, Math.round(width * (window.devicePixelRatio || 1)));
  const response = await fetch(`/api/v1${path}?width=${pixels}`, { headers: { authorization: `Bearer ${session.token}` } });
  return response.ok ? URL.createObjectURL(await response.blob()) : null;
}

// The DER inside a PEM file of `label`, or the file itself when it is DER already.
function derOf(buffer, label) {
  const bytes = new Uint8Array(buffer);
  if (bytes[0] === 0x30) return bytes;
  const text = new TextDecoder().decode(bytes);
  const match = text.match(new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`));
  if (!match) throw new Error('khóa');
  return bytesOf(match[1].replace(/\s+/g, ''));
}

function base64(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function base64url(bytes) {
  return base64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// Signs the signed attributes with a PKCS#8 key imported for this one use (not extractable);
// ECDSA gives r‖s, which the service takes as it is.
async function signInBrowser(keyFile, algorithm, message) {
  const der = derOf(keyFile, 'PRIVATE KEY');
  const params = algorithm === 'ecdsa_p256_sha256'
    ? [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }]
    : [{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, { name: 'RSASSA-PKCS1-v1_5' }];
  let privateKey;
  try {
    privateKey = await crypto.subtle.importKey('pkcs8', der, params[0], false, ['sign']);
  } catch (_) {
    throw new Error('khóa');
  }
  return new Uint8Array(await crypto.subtle.sign(params[1], privateKey, message));
}

// The issued result checked as anyone would check it: the public verification's report.
async function verifyResult(r, area) {
  area.replaceChildren(el('p', { text: 'Đang xác minh…' }));
  try {
    const response = await fetch(`/api/v1/results/${encodeURIComponent(r.id)}/content`, { headers: { authorization: `Bearer ${session.token}` } });
    if (!response.ok) throw new Error(messageFor(response.status, null));
    const pdf = await response.blob();
    const checked = await fetch('/api/v1/public/verify', { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: pdf });
    const body = await checked.json().catch(() => null);
    if (!checked.ok) throw new Error(messageFor(checked.status, body));
    area.replaceChildren(
      el('p', { text: `Kết quả đã được lưu trữ và ghi vào sổ minh bạch với mã ${r.record}.` }),
      ...report(`${r.number ? `số ${r.number}` : r.id}`, body),
    );
  } catch (error) {
    area.replaceChildren(el('p', { class: 'error', role: 'alert', text: error.message }));
  }
}

// ---- start

window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', async () => {
  await restore();
  await route();
});
