// The desk in a real browser: Debian's chromium driven by playwright-core against a running
// `sohoa serve` (tests/browser.rs starts it and passes what it seeded in the environment).
// Every page visited is checked with axe-core (no serious or critical violation), for
// English words left in its text, and for horizontal scrolling at 1366x768; each flow
// leaves a screenshot under SOHOA_SHOTS. Prints one line per check; exits 1 on a failure.
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const need = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const base = need('SOHOA_DESK_URL');
const shots = need('SOHOA_SHOTS');
const tokens = { scanner: need('SOHOA_SCANNER_TOKEN'), operator: need('SOHOA_OPERATOR_TOKEN'), admin: need('SOHOA_ADMIN_TOKEN') };
const owner = need('SOHOA_OWNER');
const sealedPdf = need('SOHOA_SEALED_PDF');
const tamperedPdf = need('SOHOA_TAMPERED_PDF');
const birthNotice = need('SOHOA_BIRTH_NOTICE');
const applicationForm = need('SOHOA_APPLICATION_FORM');
const officials = { vice: need('SOHOA_VICE_TOKEN'), chairman: need('SOHOA_CHAIRMAN_TOKEN') };
const resultId = need('SOHOA_RESULT');
const tokenCertificate = need('SOHOA_TOKEN_CERT');
const tokenKey = need('SOHOA_TOKEN_KEY');
mkdirSync(shots, { recursive: true });
// Evaluated through the debugging protocol, which the page's Content-Security-Policy (kept
// in force: the desk must work under it) does not apply to, unlike an injected script tag.
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// Words of an English interface that are not Vietnamese syllables written without marks.
const ENGLISH = new Set(
  ('the and or of for with from your you sign signed signature signatures login logout log out search results result ' +
    'record records verify verified verification valid invalid file files upload download submit cancel save delete error errors ' +
    'loading please token password user home page queue jobs job retry requeue agency role status date type owner number ' +
    'document documents dossier dossiers scan scans not found yes none unknown true false null undefined nan object click ' +
    'drop here select choose open close back next previous welcome dashboard settings help about issued issue expires expired')
    .split(/\s+/),
);

const failures = [];
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

// Checks the page and leaves a screenshot of it, or of `part` of it when given.
async function inspect(page, name, part) {
  await page.evaluate(axeSource);
  const axe = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
  });
  check(axe.length === 0, `${name}: no serious or critical accessibility violation${axe.length ? ` (${axe.join('; ')})` : ''}`);
  const text = await page.evaluate(() => document.body.innerText);
  const english = [...new Set(text.toLowerCase().match(/[a-z]+/g) || [])].filter((w) => ENGLISH.has(w));
  check(english.length === 0, `${name}: no English word in the text${english.length ? ` (${english.join(', ')})` : ''}`);
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  check(widths[0] <= widths[1], `${name}: no horizontal scroll at 1366x768 (${widths[0]} <= ${widths[1]})`);
  await (part || page).screenshot({ path: join(shots, `${name}.png`), fullPage: !part });
}

const profile = mkdtempSync(join(tmpdir(), 'sohoa-desk-'));
// A fresh profile directory: playwright passes it to chromium as --user-data-dir.
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.SOHOA_CHROMIUM || '/usr/bin/chromium',
  viewport: { width: 1366, height: 768 },
  locale: 'vi-VN',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    // the browser's own words (date formats, pickers) in Vietnamese, as at the desk
    '--lang=vi-VN',
  ],
});
try {
  const page = context.pages()[0] || (await context.newPage());
  const offsite = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) offsite.push(r.url());
  });
  const scriptErrors = [];
  page.on('pageerror', (e) => scriptErrors.push(e.message));

  // Sign in: a wrong token is refused in Vietnamese; the scanner's menu is the scanner's.
  await page.goto(`${base}/`);
  await page.waitForURL(/#\/dang-nhap$/);
  await page.getByRole('heading', { name: 'Đăng nhập' }).waitFor();
  await inspect(page, 'dang-nhap');
  await page.getByLabel('Mã truy cập').fill('sai-ma');
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByRole('alert').filter({ hasText: 'Mã truy cập không đúng' }).waitFor();
  check(true, 'a wrong token is refused with a Vietnamese reason');
  await page.getByLabel('Mã truy cập').fill(tokens.scanner);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByRole('heading', { name: 'Trang chủ' }).waitFor();
  const navigation = page.getByRole('navigation', { name: 'Trình đơn chính' });
  const menu = () => navigation.innerText();
  let items = await menu();
  check(items.includes('Tra cứu kết quả số hóa') && !items.includes('Hàng đợi xử lý'), `the scanner's menu: ${items.replace(/\s+/g, ' ')}`);
  check((await page.locator('#who').innerText()).includes('Cán bộ tiếp nhận, số hóa'), 'the role is named in Vietnamese');
  check(!page.url().includes(tokens.scanner), 'the token is not in the address');
  await inspect(page, 'trang-chu');

  // Records: search by owner; the seeded record is listed with its type's title.
  await navigation.getByRole('link', { name: 'Tra cứu kết quả số hóa' }).click();
  await page.getByLabel('Số định danh của chủ hồ sơ').fill(owner);
  await page.getByRole('button', { name: 'Tra cứu' }).click();
  const table = page.getByRole('table');
  await table.waitFor();
  const rows = await table.locator('tbody tr').count();
  const tableText = await table.innerText();
  check(rows === 2 && tableText.includes(owner) && tableText.includes('GIẤY KHAI SINH'), `the owner's two records are found (${rows} rows)`);
  await inspect(page, 'tra-cuu');

  // The scanning desk: a procedure found by a word of its name, the applicant's number checked
  // as typed, two components scanned and followed until sealed, the dossier forwarded.
  await navigation.getByRole('link', { name: 'Tiếp nhận hồ sơ' }).click();
  await page.getByLabel('Tìm thủ tục theo tên hoặc mã').fill('khai sinh');
  const options = await page.getByLabel('Thủ tục', { exact: true }).locator('option').allInnerTexts();
  check(options.length >= 1 && options.every((o) => o.toLowerCase().includes('khai sinh')), `the procedure search narrows the list: ${options.join('; ')}`);
  await page.getByLabel('Thủ tục', { exact: true }).selectOption({ label: options.find((o) => o.startsWith('Đăng ký khai sinh')) });
  const idBox = page.getByLabel('Số định danh cá nhân hoặc mã số doanh nghiệp');
  const idHint = page.locator('#so-dinh-danh-goi-y');
  await idBox.fill('00118601');
  check((await idHint.innerText()).includes('có 12 chữ số'), `a short number is explained as typed: ${await idHint.innerText()}`);
  await idBox.fill('097186012345');
  check((await idHint.innerText()).includes('mã tỉnh'), `a number with no province is explained: ${await idHint.innerText()}`);
  await idBox.fill(owner);
  check((await idHint.innerText()) === 'Hợp lệ.', 'a good number is accepted');
  await page.getByLabel('Họ tên người nộp hoặc tên doanh nghiệp').fill('Nguyễn Thị Hoa');
  await inspect(page, 'tiep-nhan');
  await page.getByRole('button', { name: 'Tạo hồ sơ' }).click();
  await page.waitForURL(/#\/ho-so\//);
  const opened = Date.now();
  const notice = page.locator('section[data-component="hospital_birth_notice"]');
  const form = page.locator('section[data-component="application_form"]');
  await notice.waitFor();
  check((await page.locator('section[data-component]').count()) === 3, 'the checklist has the procedure\'s three components');
  await notice.locator('input[type=file]').setInputFiles(birthNotice);
  // the form's page is dropped from the scanner's folder onto its component
  const zone = form.locator('.drop-zone');
  check((await zone.innerText()).includes('kéo thả'), 'each component says files may be dropped on it');
  const transfer = await page.evaluateHandle(({ data, name }) => {
    const bytes = Uint8Array.from(atob(data), (ch) => ch.charCodeAt(0));
    const files = new DataTransfer();
    files.items.add(new File([bytes], name, { type: name.endsWith('.png') ? 'image/png' : 'image/jpeg' }));
    return files;
  }, { data: readFileSync(applicationForm).toString('base64'), name: applicationForm.split('/').pop() });
  await zone.dispatchEvent('dragover', { dataTransfer: transfer });
  check(await zone.evaluate((z) => z.classList.contains('dragging')), 'a component shows where files dragged over it go');
  await zone.dispatchEvent('drop', { dataTransfer: transfer });
  await notice.locator('.scan-status', { hasText: 'Đã đóng dấu số' }).waitFor({ timeout: 120000 });
  await form.locator('.scan-status', { hasText: 'Đã đóng dấu số' }).waitFor({ timeout: 120000 });
  const sealedIn = (Date.now() - opened) / 1000;
  console.log(`figure: scanning desk, dossier opened to both components sealed: ${sealedIn.toFixed(1)} s`);
  const noticeText = await notice.innerText();
  check(noticeText.includes('Đạt') && noticeText.includes('GIẤY CHỨNG SINH') && noticeText.includes(owner), 'the birth notice is satisfied, its type and owner shown');
  const formText = await form.innerText();
  check(formText.includes('Loại giấy tờ máy nhận ra') && formText.includes('Độ tin cậy'), 'the application form shows the type found and its confidence');
  // the notice's page as the machine read it, each field it found framed over the image
  const sheet = notice.locator('.read-page');
  await sheet.locator('img[alt^="Trang 1"]').waitFor();
  await sheet.locator('img').evaluate((img) => img.decode());
  const frames = await sheet.evaluate((s) => {
    const img = s.querySelector('img');
    const page = img.getBoundingClientRect();
    return {
      drawn: img.naturalWidth > 0,
      boxes: [...s.querySelectorAll('.field-box')].map((b) => {
        const r = b.getBoundingClientRect();
        const over = r.width > 4 && r.height > 4 && r.left >= page.left - 5 && r.right <= page.right + 5 && r.top >= page.top - 5 && r.bottom <= page.bottom + 5;
        return { field: b.dataset.field, label: b.textContent, name: b.querySelector('.field-name').textContent, over };
      }),
    };
  });
  const ownerFrame = frames.boxes.find((b) => b.field === 'owner_id');
  check(
    frames.drawn && frames.boxes.length >= 2 && frames.boxes.every((b) => b.over) && ownerFrame && ownerFrame.label.includes(owner) && ownerFrame.name === 'Số định danh',
    `the birth notice's page is shown with its fields framed over it: ${frames.boxes.map((b) => `${b.name} (${b.over ? 'trên trang' : 'NGOÀI TRANG'})`).join(', ')}`,
  );
  console.log(`figure: scanning desk, dossier opened to the birth notice's fields framed on its page: ${((Date.now() - opened) / 1000).toFixed(1)} s`);
  // a frame is reached with the keyboard and opens the correction at its field
  const ownerButton = sheet.locator('.field-box[data-field="owner_id"]');
  await ownerButton.focus();
  check(await ownerButton.evaluate((b) => b === document.activeElement && b.tabIndex >= 0), 'a field\'s frame takes the keyboard focus');
  await inspect(page, 'ho-so-truong', notice);
  await page.keyboard.press('Enter');
  const editing = await page.evaluate(() => document.activeElement.id);
  check(/^sua-\d+-owner_id$/.test(editing) && (await notice.locator('details.correct').evaluate((d) => d.open)), `Enter on the owner id's frame opens its correction (${editing})`);
  await notice.getByText('Sửa loại giấy tờ và thông tin').click();
  const flagged = await form.locator('[data-flag]').allInnerTexts();
  check(flagged.every((f) => !/[a-z]+_[a-z]+/.test(f)), `flags are told in Vietnamese: ${flagged.join(' ') || 'none'}`);
  // the parents' marriage certificate is already a record: reused in one click
  const marriage = page.locator('section[data-component="parents_marriage_certificate"]');
  check((await marriage.innerText()).includes('Đã có'), 'a record of the applicant is offered for reuse');
  await marriage.getByRole('button', { name: 'Dùng lại giấy tờ này' }).click();
  await marriage.getByText('dùng lại kết quả đã có').waitFor();
  check((await marriage.locator('.tinh-trang').innerText()) === 'Đạt', 'the reused component is satisfied');
  // the form names another person: the desk corrects the number in place
  if ((await form.locator('.tinh-trang').innerText()) !== 'Đạt') {
    await form.getByText('Sửa loại giấy tờ và thông tin').click();
    await form.getByLabel('Số định danh').fill(owner);
    await form.getByRole('button', { name: 'Lưu bản đã sửa' }).click();
    await form.locator('.tinh-trang', { hasText: 'Đạt' }).waitFor();
    check((await form.locator('[data-flag]').count()) === 0, 'the corrected form is satisfied and no longer flagged');
  }
  await inspect(page, 'ho-so');
  console.log(`figure: scanning desk, dossier opened to complete (two components scanned, one corrected, one reused): ${((Date.now() - opened) / 1000).toFixed(1)} s`);
  const complete = (await page.locator('#da-dat').innerText()) === '2/2';
  if (!complete) await page.getByLabel('Lý do chuyển khi hồ sơ chưa đủ').fill('Công dân bổ sung tờ khai sau.');
  await page.getByRole('button', { name: 'Chuyển xử lý' }).click();
  await page.locator('#da-chuyen').waitFor();
  check((await page.locator('#tinh-trang-ho-so').innerText()) === 'Đã chuyển xử lý', `the dossier is forwarded (${complete ? 'complete' : 'with a reason'})`);
  console.log(`figure: scanning desk, dossier opened to forwarded: ${((Date.now() - opened) / 1000).toFixed(1)} s`);

  // A record's page: its seal and its place in the log, the inclusion proof checked in the
  // page against the signed checkpoint; every record's proof checks, a changed one does not.
  await navigation.getByRole('link', { name: 'Tra cứu kết quả số hóa' }).click();
  await page.getByLabel('Số định danh của chủ hồ sơ').fill(owner);
  await page.getByRole('button', { name: 'Tra cứu' }).click();
  await page.getByRole('table').getByRole('link', { name: 'GIẤY CHỨNG SINH' }).click();
  await page.locator('#kiem-tra-so').waitFor();
  const proofSaid = await page.locator('#kiem-tra-so').innerText();
  check(proofSaid.startsWith('Đã kiểm tra'), `the sealed copy's inclusion proof checks in the page: ${proofSaid}`);
  check((await page.locator('main').innerText()).includes('Dấu số của cơ quan'), 'the seal is named');
  await inspect(page, 'ban-ghi');
  const proofs = await page.evaluate(async () => {
    const list = await api('/records?limit=500');
    const out = [];
    for (const r of list.records) {
      const proof = await api(`/records/${encodeURIComponent(r.id)}/proof`);
      const good = await checkProof(proof);
      const bad = await checkProof({ ...proof, leaf_index: proof.leaf_index ^ 1 });
      const badPath = proof.hashes.length ? await checkProof({ ...proof, hashes: [proof.hashes[0].replace(/^./, (c) => (c === 'A' ? 'B' : 'A')), ...proof.hashes.slice(1)] }) : { ok: false };
      out.push({ index: proof.leaf_index, size: proof.tree_size, good: good.ok, bad: bad.ok, badPath: badPath.ok });
    }
    return out;
  });
  check(
    proofs.length >= 4 && proofs.every((p) => p.good && !p.bad && !p.badPath),
    `every record's proof checks and a changed one does not: ${JSON.stringify(proofs)}`,
  );

  // A reload keeps the session (the tab's storage); signing out ends it.
  await navigation.getByRole('link', { name: 'Tra cứu kết quả số hóa' }).click();
  await page.reload();
  await page.getByRole('heading', { name: 'Tra cứu kết quả số hóa' }).waitFor();
  check(true, 'a reload keeps the session');
  await page.getByRole('button', { name: 'Đăng xuất' }).click();
  await page.waitForURL(/#\/dang-nhap$/);
  check((await page.evaluate(() => sessionStorage.length)) === 0, 'signing out forgets the token');

  // The admin's dashboard: this month's indicators, the dossier taken in above counted.
  await page.getByLabel('Mã truy cập').fill(tokens.admin);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByRole('heading', { name: 'Trang chủ' }).waitFor();
  await navigation.getByRole('link', { name: 'Chỉ số phục vụ' }).click();
  await page.locator('#chi-so-bang').waitFor();
  const reuseRow = await page.locator('#chi-so-bang tr[data-code="4.3"]').innerText();
  check((await page.locator('#chi-so-bang tbody tr').count()) === 4 && reuseRow.includes('1/2'), `the month's four indicators, 4.3: ${reuseRow.replace(/\s+/g, ' ')}`);
  await page.locator('#hang-doi-bang').waitFor();
  check((await page.locator('#viec-bi-dung').innerText()).length > 0, 'the dashboard shows the queue depth and the dead jobs');
  await inspect(page, 'chi-so');

  // The administrator's tokens: one made with its secret shown once, then revoked.
  await navigation.getByRole('link', { name: 'Mã truy cập' }).click();
  await page.locator('#ma-truy-cap-bang').waitFor();
  await page.getByLabel('Vai trò').selectOption('scanner');
  await page.getByLabel('Tên gợi nhớ').fill('Quầy số 3');
  await page.getByRole('button', { name: 'Cấp mã truy cập' }).click();
  const secret = await page.getByLabel('Mã truy cập (chỉ hiện một lần)').inputValue();
  check(/^sohoa_[0-9a-f]{64}$/.test(secret), 'a new token is shown once with its secret');
  const madeRow = page.locator('#ma-truy-cap-bang tr', { hasText: 'Quầy số 3' });
  await madeRow.waitFor();
  const madeId = await madeRow.getAttribute('data-id');
  const meWith = (token) => page.evaluate(async (t) => (await fetch('/api/v1/me', { headers: { authorization: `Bearer ${t}` } })).status, token);
  check((await meWith(secret)) === 200, 'the new token signs in');
  await inspect(page, 'ma-truy-cap');
  const revoke = page.getByRole('button', { name: `Thu hồi mã truy cập số ${madeId}` });
  await revoke.click();
  await revoke.click();
  await page.locator(`#ma-truy-cap-bang tr[data-id="${madeId}"]`).waitFor({ state: 'detached' });
  check((await meWith(secret)) === 401, 'the revoked token is refused');
  check(!(await page.locator('#ma-truy-cap-bang').innerText()).includes(secret), 'the list never shows a secret');
  await navigation.getByRole('link', { name: 'Nhật ký hệ thống' }).click();
  await page.getByLabel('Thao tác').selectOption('token');
  await page.getByRole('button', { name: 'Tìm trong nhật ký' }).click();
  await page.locator('#nhat-ky-bang tr[data-action="token.revoke"]').waitFor();
  const audited = await page.locator('#nhat-ky-bang tbody').innerText();
  check(audited.includes('Cấp mã truy cập') && audited.includes('Thu hồi mã truy cập') && audited.includes(`Mã truy cập số ${madeId}`),
    'the audit search finds the token made and revoked');
  await inspect(page, 'nhat-ky');
  await page.getByRole('button', { name: 'Đăng xuất' }).click();

  // The operator's menu has the queue and not the records.
  await page.getByLabel('Mã truy cập').fill(tokens.operator);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByRole('heading', { name: 'Trang chủ' }).waitFor();
  items = await menu();
  check(items.includes('Hàng đợi xử lý') && !items.includes('Tra cứu kết quả số hóa'), `the operator's menu: ${items.replace(/\s+/g, ' ')}`);
  await navigation.getByRole('link', { name: 'Hàng đợi xử lý' }).click();
  await page.getByText('Không có việc nào bị dừng.').waitFor();
  await inspect(page, 'hang-doi');
  // the operator's pages: the local worker with its last claim, the queue and the archive's state
  await navigation.getByRole('link', { name: 'Máy xử lý' }).click();
  await page.locator('#may-xu-ly-bang').waitFor();
  const workerRows = await page.locator('#may-xu-ly-bang tbody tr').allInnerTexts();
  check(workerRows.length >= 1 && workerRows.some((r) => r.includes('giây trước') || r.includes('phút trước')),
    `the running worker is listed with its last claim: ${workerRows.join(' | ').replace(/\s+/g, ' ')}`);
  await inspect(page, 'may-xu-ly');
  await navigation.getByRole('link', { name: 'Chỉ số phục vụ' }).click();
  await page.locator('#hang-doi-bang').waitFor();
  const sealRow = await page.locator('#hang-doi-bang tr[data-kind="ocr"]').innerText();
  check(sealRow.includes('Nhận dạng chữ'), `the queue depth by kind: ${sealRow.replace(/\s+/g, ' ')}`);
  await page.locator('#toan-ven-luu-tru p, #toan-ven-luu-tru dl').first().waitFor();
  check((await page.locator('#toan-ven-luu-tru .verdict').innerText()) === 'Lưu trữ toàn vẹn.', 'the last fixity pass is shown clean');
  await inspect(page, 'chi-so-van-hanh');
  await page.goto(`${base}/#/tra-cuu`);
  await page.getByRole('alert').filter({ hasText: 'Vai trò của bạn không được mở trang này.' }).waitFor();
  check(true, 'a page outside the role is refused');
  await page.getByRole('button', { name: 'Đăng xuất' }).click();

  // The signing desk: the result waits for the vice-chairman, then the chairman. She drags the
  // signature box with the pointer and signs with her own key in the browser (WebCrypto stands
  // in for the USB token); he moves his box with the arrow keys, signs with the key the
  // service holds and issues the result, which is then verified as anyone would verify it.
  const signIn = async (token) => {
    await page.getByLabel('Mã truy cập').fill(token);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByRole('heading', { name: 'Trang chủ' }).waitFor();
  };
  await signIn(officials.vice);
  items = await menu();
  check(items.includes('Kết quả chờ ký') && !items.includes('Tiếp nhận hồ sơ'), `the signer's menu: ${items.replace(/\s+/g, ' ')}`);
  const signingStarted = Date.now();
  await navigation.getByRole('link', { name: 'Kết quả chờ ký' }).click();
  await page.locator('#cho-ky').waitFor();
  let waitingRows = await page.locator('#cho-ky tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.result));
  check(waitingRows.length === 1 && waitingRows[0] === resultId, `the vice-chairman's list holds the result named for her first: ${waitingRows.join(', ')}`);
  await inspect(page, 'ky-so');
  await page.locator(`#cho-ky tr[data-result="${resultId}"] a`).click();
  await page.locator('.sheet-page[data-loaded]').waitFor();
  const sigBox = page.locator('.sig-box');
  const at = async () => sigBox.evaluate((b) => [Number(b.dataset.x), Number(b.dataset.y)]);
  const [x0, y0] = await at();
  check(x0 === 309 && y0 === 56, `the box starts where the service puts it by default (${x0}, ${y0})`);
  const preview = await page.locator('.sheet-page').evaluate((img) => [img.naturalWidth, img.naturalHeight]);
  check(preview[0] >= 520 && preview[1] > preview[0], `the page is drawn by the service (${preview.join('x')} px)`);
  await sigBox.scrollIntoViewIfNeeded();
  const start = await sigBox.boundingBox();
  await page.mouse.move(start.x + start.width / 2, start.y + start.height / 2);
  await page.mouse.down();
  await page.mouse.move(start.x + start.width / 2 - 200, start.y + start.height / 2 - 120, { steps: 8 });
  await page.mouse.up();
  const [x1, y1] = await at();
  check(x1 < x0 - 200 && y1 > y0 + 120, `the box follows the pointer: (${x0}, ${y0}) to (${x1}, ${y1})`);
  check((await page.locator('#vi-tri-chu-ky').innerText()).includes(`cách lề trái ${x1} điểm`), 'the position is told in words');
  await inspect(page, 'ky-so-ket-qua');
  await page.getByLabel('Chọn tệp chứng thư số').setInputFiles(tokenCertificate);
  await page.getByLabel('Chọn tệp khóa ký').setInputFiles(tokenKey);
  await page.getByRole('button', { name: 'Ký bằng khóa của tôi' }).click();
  await page.locator('#cho-nguoi-khac').waitFor();
  check((await page.locator('#so-chu-ky').innerText()) === '1', 'signed in the browser: one signature, and it now waits for the chairman');
  check((await page.locator('#cho-nguoi-khac').innerText()).includes('chu-tich'), 'the next official is named');
  await navigation.getByRole('link', { name: 'Kết quả chờ ký' }).click();
  await page.locator('#khong-co-ket-qua').waitFor();
  check(true, 'a result she has signed leaves her list');
  await page.getByRole('button', { name: 'Đăng xuất' }).click();

  await signIn(officials.chairman);
  await navigation.getByRole('link', { name: 'Kết quả chờ ký' }).click();
  await page.locator('#cho-ky').waitFor();
  waitingRows = await page.locator('#cho-ky tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.result));
  check(waitingRows.length === 2 && waitingRows.includes(resultId), `the chairman's list: his own result and the one signed before him (${waitingRows.length})`);
  await page.locator(`#cho-ky tr[data-result="${resultId}"] a`).click();
  await page.locator('.sheet-page[data-loaded]').waitFor();
  await sigBox.focus();
  for (let i = 0; i < 4; i++) await page.keyboard.press('Shift+ArrowUp');
  for (let i = 0; i < 2; i++) await page.keyboard.press('ArrowLeft');
  const [x2, y2] = await at();
  check(x2 === x0 - 10 && y2 === y0 + 80, `the arrow keys move the box: (${x0}, ${y0}) to (${x2}, ${y2})`);
  await page.getByRole('button', { name: 'Ký bằng khóa do hệ thống giữ' }).click();
  await page.getByRole('button', { name: 'Ban hành kết quả' }).click();
  await page.locator('#xac-minh-ket-qua .verdict').waitFor();
  const issuedVerdict = await page.locator('#xac-minh-ket-qua .verdict').innerText();
  check(issuedVerdict.includes('hợp lệ') && issuedVerdict.includes('2 chữ ký') && !issuedVerdict.includes('không hợp lệ'), `the issued result verifies: ${issuedVerdict}`);
  const cards = await page.locator('#xac-minh-ket-qua section.card').allInnerTexts();
  check(cards.length === 2 && cards[0].includes('Trần Thị Bình') && cards[1].includes('Nguyễn Văn An'), 'both officials are named, in the order they signed');
  check((await page.locator('#tinh-trang-ket-qua').innerText()) === 'Đã ban hành', 'the result is issued');
  await page.locator('#ban-da-ky[data-loaded]').waitFor();
  // the signed page is drawn with both appearances: the ink under each placed box
  const inked = await page.locator('#ban-da-ky').evaluate(async (img, boxes) => {
    await img.decode();
    const canvas = document.createElement('canvas');
    [canvas.width, canvas.height] = [img.naturalWidth, img.naturalHeight];
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const s = img.naturalWidth / 595;
    const dark = (x, y) => {
      const d = ctx.getImageData(Math.round(x * s), Math.round((842 - y - 90) * s), Math.round(230 * s), Math.round(90 * s)).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] < 384) n++;
      return n;
    };
    return boxes.map(([x, y]) => dark(x, y));
  }, [[x1, y1], [x2, y2], [40, 500]]);
  check(inked[0] > 200 && inked[1] > 200 && inked[2] < 50, `both signatures show where they were placed, none elsewhere (dark pixels: ${inked.join(', ')})`);
  console.log(`figure: signing desk, list opened to issued and verified (two officials, one deferred in the browser): ${((Date.now() - signingStarted) / 1000).toFixed(1)} s`);
  const logged = await page.locator('#trong-so').innerText();
  check(logged.includes('đúng từng byte') && logged.includes('Đã ghi, vị trí'), 'the issued result is found in the log by its content');
  await inspect(page, 'ky-so-da-ky');
  await page.getByRole('button', { name: 'Đăng xuất' }).click();

  // The address in the result's QR code, opened by anyone: what was issued, by whom, when.
  await page.goto(`${base}/#/xac-minh/${resultId}`);
  await page.locator('#van-ban-tra-cuu dl').waitFor();
  const linked = await page.locator('#van-ban-tra-cuu').innerText();
  check(linked.includes('Còn hiệu lực') && linked.includes('Đã ghi, vị trí') && !linked.includes(owner),
    `the verification link shows the issued result without personal data: ${linked.replace(/\s+/g, ' ')}`);
  await inspect(page, 'xac-minh-ma');

  // Public verification, signed out: a sealed PDF is valid, a changed one is not.
  await page.goto(`${base}/#/xac-minh`);
  await page.getByRole('heading', { name: 'Xác minh văn bản điện tử' }).waitFor();
  await page.getByLabel('Chọn tệp PDF cần xác minh').setInputFiles(sealedPdf);
  const verdict = page.locator('.verdict');
  await verdict.waitFor();
  let said = await verdict.innerText();
  check(said.includes('hợp lệ') && !said.includes('không hợp lệ'), `a sealed PDF: ${said}`);
  const card = await page.locator('section.card').first().innerText();
  check(card.includes('Người ký') && card.includes('CN=') && card.includes('Không có thay đổi nào.'), 'the signer and no change after signing are shown');
  check((await page.locator('#trong-so').innerText()).includes('Không tìm thấy tệp này trong sổ minh bạch'), 'a file archived nowhere is said not to be in the log');
  await inspect(page, 'xac-minh-hop-le');
  await page.getByLabel('Chọn tệp PDF cần xác minh').setInputFiles(tamperedPdf);
  await page.locator('.verdict.bad').waitFor();
  said = await verdict.innerText();
  check(said.includes('không hợp lệ'), `a changed PDF: ${said}`);
  check(
    (await page.locator('section.card li[data-code="digest_mismatch"]').innerText()).includes('Nội dung văn bản đã bị thay đổi sau khi ký'),
    'the change is told in Vietnamese',
  );
  await inspect(page, 'xac-minh-bi-sua');

  check(offsite.length === 0, `nothing loaded from another origin${offsite.length ? ` (${offsite.join(', ')})` : ''}`);
  check(scriptErrors.length === 0, `no script error${scriptErrors.length ? ` (${scriptErrors.join('; ')})` : ''}`);
} catch (error) {
  failures.push(String(error && error.stack ? error.stack : error));
  console.log(`FAIL ${error}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`${failures.length === 0 ? 'passed' : 'failed'}: ${failures.length} failure(s)`);
process.exit(failures.length === 0 ? 0 : 1);
