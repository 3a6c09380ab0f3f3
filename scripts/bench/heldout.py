"""Held-out OCR benchmark driver: reads the same pages with `sohoa-worker scan --json`, the
tesseract CLI and OCRmyPDF --deskew --clean, one process per page and tool in turn, then
prints one table per scan quality and one per face (see scripts/bench-heldout.sh for the
columns). Needs Pillow (OCRmyPDF's venv has it) to turn pages.
Usage: heldout.py PAGES_DIR WORKER_BINARY OCRMYPDF_BINARY OUT_DIR TURN_EVERY"""
import glob
import json
import os
import subprocess
import sys
import time

from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from cer import cer, norm  # noqa: E402

pages_dir, worker, ocrmypdf, out, turn_every = sys.argv[1:6]
turn_every = int(turn_every)
os.makedirs(out, exist_ok=True)
env = dict(os.environ, OMP_THREAD_LIMIT="1")
QUALITIES = ["clean", "ordinary", "poor"]


def stem(path):
    return os.path.splitext(path)[0]


def run(cmd):
    """Stdout, exit status, wall seconds and CPU seconds (user + system) of one command."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    return stdout.decode("utf-8", "replace"), status, time.monotonic() - start, usage.ru_utime + usage.ru_stime


def load_pages():
    """Upright pages with their labels and truth, and every `turn_every`th document page
    also turned clockwise by 90, 180 or 270 degrees in turn (saved as PNG, so lossless)."""
    pages = []
    for image in sorted(glob.glob(f"{pages_dir}/*.png") + glob.glob(f"{pages_dir}/*.jpg")):
        labels = json.load(open(stem(image) + ".json"))
        truth = open(stem(image) + ".txt", encoding="utf-8").read()
        pages.append(dict(image=image, labels=labels, truth=truth, turned=0))
    documents = [p for p in pages if p["labels"]["doc_type"] != "unknown"]
    for i, page in enumerate(documents[::turn_every]):
        degrees = 90 * (1 + i % 3)
        image = f"{out}/{os.path.basename(stem(page['image']))}-cw{degrees}.png"
        dpi = page["labels"]["dpi"]
        Image.open(page["image"]).rotate(-degrees, expand=True).save(image, dpi=(dpi, dpi))
        pages.append(dict(page, image=image, turned=degrees))
    return pages


def read_sohoa(page):
    stdout, status, wall, cpu = run([worker, "scan", page["image"], "--json", "--policies", "policies"])
    found = json.loads(stdout) if status == 0 else {}
    fields = {k: v.get("value", "") for k, v in found.get("fields", {}).items()}
    turns = (found.get("quarter_turns") or [None])[0]
    return dict(text=found.get("text"), wall=wall, cpu=cpu, doc_type=found.get("doc_type"), fields=fields, turns=turns)


def read_tesseract(page):
    stdout, status, wall, cpu = run(["tesseract", page["image"], "-", "-l", "vie"])
    return dict(text=stdout if status == 0 else None, wall=wall, cpu=cpu)


def read_ocrmypdf(page):
    base = f"{out}/{os.path.basename(stem(page['image']))}-ocrmypdf"
    dpi = str(page["labels"]["dpi"])
    cmd = [ocrmypdf, "-l", "vie", "--deskew", "--clean", "--output-type", "pdf", "-j", "1", "--image-dpi", dpi, "-q",
           "--sidecar", base + ".txt", page["image"], base + ".pdf"]
    _, status, wall, cpu = run(cmd)
    text = open(base + ".txt", encoding="utf-8").read() if status == 0 else None
    return dict(text=text, wall=wall, cpu=cpu)


TOOLS = [("sohoa", read_sohoa), ("tesseract", read_tesseract), ("ocrmypdf", read_ocrmypdf)]


def error_rates(page):
    """Each tool's CER on the page; none for a tool that failed or a page with no text."""
    if not norm(page["truth"]):
        return {}
    return {tool: cer(page["truth"], page[tool]["text"]) for tool, _ in TOOLS if page[tool]["text"] is not None}


def mean(values):
    return sum(values) / len(values) if values else float("nan")


def rate(hits, total):
    return f"{hits}/{total} {100 * hits / total:.1f}%" if total else "-"


def row(name, group):
    """One table row over the upright pages of `group`."""
    cers = {tool: mean([p["cer"][tool] for p in group if tool in p["cer"]]) for tool, _ in TOOLS}
    peer = min(cers["tesseract"], cers["ocrmypdf"])
    docs = [p for p in group if p["labels"]["doc_type"] != "unknown"]
    outside = [p for p in group if p["labels"]["doc_type"] == "unknown"]
    owners = [p for p in docs if "owner_id" in p["labels"]["fields"]]
    top1 = sum(p["sohoa"]["doc_type"] == p["labels"]["doc_type"] for p in docs)
    unknown = sum(p["sohoa"]["doc_type"] == "unknown" for p in outside)
    owner = sum(norm(p["sohoa"]["fields"].get("owner_id", "")) == norm(p["labels"]["fields"]["owner_id"]) for p in owners)
    wrong = sum(p["sohoa"]["turns"] != 0 for p in group)
    secs = {tool: mean([p[tool]["cpu"] for p in group]) for tool in ("sohoa", "tesseract")}
    return [name, str(len(group)), f"{cers['sohoa']:.4f}", f"{cers['tesseract']:.4f}", f"{cers['ocrmypdf']:.4f}",
            f"{cers['sohoa'] / peer:.2f}" if peer > 0 else "-", f"{wrong}/{len(group)}",
            f"{secs['sohoa']:.2f}", f"{secs['tesseract']:.2f}", f"{secs['sohoa'] / secs['tesseract']:.2f}",
            rate(top1, len(docs)), rate(unknown, len(outside)), rate(owner, len(owners))]


HEADER = ["", "pages", "CER sohoa", "CER tess", "CER ocrmypdf", "vs peer", "wrong turns",
          "s sohoa", "s tess", "s ratio", "top-1", "unknown", "owner id"]


def table(title, rows):
    widths = [max(len(r[i]) for r in [HEADER] + rows) for i in range(len(HEADER))]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    print(f"\n{title}")
    print(line(HEADER))
    print("-" * len(line(HEADER)))
    for cells in rows:
        print(line(cells))


def one_process(upright):
    """CPU per page when one process reads all the upright pages of a scan quality, each
    tool's models loaded once, as the service's worker keeps its engines: every page into
    one searchable PDF by `sohoa-worker ocr` and by the tesseract CLI's list mode (`pdf`).
    Beside it, the characters (not counting spaces) per page of the truth and of each tool's
    text (from the pages' own runs, the same engines), and the ratio of CPU per character
    given: a tool that drops lines it cannot read spends less on the page."""
    print("\nCPU seconds per page, one process per scan quality (models loaded once; both write a searchable PDF),")
    print("characters per page (truth, each tool's text) and the CPU ratio per character given")
    print(f"  {'quality':<10} {'pages':>5} {'s sohoa':>8} {'s tess':>8} {'s ratio':>8} "
          f"{'ch truth':>9} {'ch sohoa':>9} {'ch tess':>8} {'s/ch ratio':>10}")
    for quality in QUALITIES:
        group = [p for p in upright if p["labels"]["quality"] == quality]
        images = [p["image"] for p in group]
        if not images:
            continue
        listing = f"{out}/list-{quality}.txt"
        with open(listing, "w") as f:
            f.write("\n".join(images) + "\n")
        _, s_status, _, s_cpu = run([worker, "ocr", *images, "-o", f"{out}/all-{quality}.pdf"])
        _, t_status, _, t_cpu = run(["tesseract", listing, f"{out}/all-{quality}-tess", "-l", "vie", "pdf"])
        if s_status or t_status:
            print(f"  {quality:<10} failed (sohoa exit {s_status}, tesseract exit {t_status})")
            continue
        n = len(images)
        chars = {k: sum(letters(text) for text in texts) / n for k, texts in (
            ("truth", [p["truth"] for p in group]),
            ("sohoa", [p["sohoa"]["text"] or "" for p in group]),
            ("tesseract", [p["tesseract"]["text"] or "" for p in group]))}
        per_char = (s_cpu / chars["sohoa"]) / (t_cpu / chars["tesseract"]) if chars["sohoa"] and chars["tesseract"] else float("nan")
        print(f"  {quality:<10} {n:>5} {s_cpu / n:>8.2f} {t_cpu / n:>8.2f} {s_cpu / t_cpu:>8.2f} "
              f"{chars['truth']:>9.0f} {chars['sohoa']:>9.0f} {chars['tesseract']:>8.0f} {per_char:>10.2f}")


def letters(text):
    """Characters of `text` other than white space."""
    return sum(not c.isspace() for c in text)


def main():
    pages = load_pages()
    for n, page in enumerate(pages, 1):
        for tool, read in TOOLS:
            page[tool] = read(page)
        page["cer"] = error_rates(page)
        print(f"read {n}/{len(pages)}", file=sys.stderr, end="\r")
    upright = [p for p in pages if not p["turned"]]
    failed = {tool: sum(p[tool]["text"] is None for p in pages) for tool, _ in TOOLS}
    print(f"\n{len(upright)} upright pages and {len(pages) - len(upright)} turned copies; "
          f"failed runs: {', '.join(f'{t} {n}' for t, n in failed.items())}")
    table("by scan quality (upright pages)",
          [row(q, [p for p in upright if p["labels"]["quality"] == q]) for q in QUALITIES] + [row("all", upright)])
    faces = sorted({p["labels"]["face"] for p in upright})
    table("by face (upright pages)", [row(f, [p for p in upright if p["labels"]["face"] == f]) for f in faces])
    layouts = sorted({p["labels"]["layout"] or "plain (out of scope)" for p in upright})
    table("by layout (upright pages)",
          [row(k, [p for p in upright if (p["labels"]["layout"] or "plain (out of scope)") == k]) for k in layouts])
    turned = [p for p in pages if p["turned"]]
    if turned:
        print("\nturned copies of document pages: expected quarter turns, turned right, CER")
        for degrees in (90, 180, 270):
            group = [p for p in turned if p["turned"] == degrees]
            right = sum(p["sohoa"]["turns"] == (4 - degrees // 90) % 4 for p in group)
            cers = "  ".join(f"{t} {mean([p['cer'][t] for p in group if t in p['cer']]):.4f}" for t, _ in TOOLS)
            print(f"  clockwise {degrees:>3}: {rate(right, len(group))} turned right;  CER {cers}")
    one_process(upright)
    for page in pages:
        expected = (4 - page["turned"] // 90) % 4
        if page["sohoa"]["turns"] != expected:
            print(f"  wrong turn: {os.path.basename(page['image'])} ({page['labels']['face']}, {page['labels']['layout']}, "
                  f"{page['labels']['dpi']} dpi) needs {expected}, given {page['sohoa']['turns']}")


if __name__ == "__main__":
    main()
