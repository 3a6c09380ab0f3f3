"""OCR benchmark driver: runs each tool on the same generated pages, one process per page
and as a batch with 1 and 2 workers, and prints seconds per page, pages per second, peak
RSS and the character error rate (from pdftotext of each tool's PDF) per scan quality.
Usage: ocr.py PAGES_DIR WORKER_BINARY OCRMYPDF_BINARY OUT_DIR"""
import glob
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from cer import cer  # noqa: E402

pages_dir, worker, ocrmypdf, out = sys.argv[1:5]
pages = sorted(glob.glob(f"{pages_dir}/*.png") + glob.glob(f"{pages_dir}/*.jpg"))
labels = {p: json.load(open(os.path.splitext(p)[0] + ".json")) for p in pages}
truth = {p: open(os.path.splitext(p)[0] + ".txt", encoding="utf-8").read() for p in pages}
os.makedirs(out, exist_ok=True)
single_env = dict(os.environ, OMP_THREAD_LIMIT="1")
omp_env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}


def run(cmd, env):
    """Wall seconds and peak RSS (MB, the process and its children) of one command."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"failed ({status}): {' '.join(cmd)}")
    return time.monotonic() - start, usage.ru_maxrss / 1024


def parallel(cmds, env, workers):
    """Wall seconds to run `cmds` with at most `workers` at a time."""
    start = time.monotonic()
    running, queue = [], list(cmds)
    while queue or running:
        while queue and len(running) < workers:
            running.append(subprocess.Popen(queue.pop(0), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        running[0].wait()
        running.pop(0)
    return time.monotonic() - start


def name_of(page):
    return os.path.splitext(os.path.basename(page))[0]


def tesseract(page, dest):
    return ["tesseract", page, dest[:-4], "-l", "vie", "pdf"]


def ocrmypdf_cmd(clean):
    def cmd(page, dest):
        extra = ["--deskew", "--clean"] if clean else []
        dpi = str(labels[page]["dpi"])
        return [ocrmypdf, "-l", "vie", "--output-type", "pdf", "-j", "1", "--image-dpi", dpi, "-q"] + extra + [page, dest]
    return cmd


def sohoa(page, dest):
    return [worker, "ocr", page, "-o", dest]


tools = [
    ("tesseract (OpenMP on)", tesseract, omp_env),
    ("tesseract OMP_THREAD_LIMIT=1", tesseract, single_env),
    ("ocrmypdf -j 1", ocrmypdf_cmd(False), single_env),
    ("ocrmypdf -j 1 --deskew --clean", ocrmypdf_cmd(True), single_env),
    ("sohoa-worker ocr", sohoa, single_env),
]

rows = []
for label, cmd, env in tools:
    slug = "".join(c if c.isalnum() else "-" for c in label)
    times, rss, errors = [], [], {}
    for page in pages:
        dest = f"{out}/{slug}-{name_of(page)}.pdf"
        seconds, peak = run(cmd(page, dest), env)
        times.append(seconds)
        rss.append(peak)
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", dest, "-"], capture_output=True, text=True).stdout
        errors.setdefault(labels[page]["quality"], []).append(cer(truth[page], text))
    batch = []
    for workers in (1, 2):
        if cmd is sohoa:
            # the batch form: one process per worker, its engine loaded once for its pages
            chunks = [pages[i::workers] for i in range(workers)]
            cmds = [[worker, "ocr", *chunk, "-o", f"{out}/{slug}-batch{workers}-{i}.pdf"] for i, chunk in enumerate(chunks)]
        else:
            cmds = [cmd(p, f"{out}/{slug}-batch{workers}-{name_of(p)}.pdf") for p in pages]
        batch.append(len(pages) / parallel(cmds, env, workers))
    mean = {q: sum(v) / len(v) for q, v in errors.items()}
    rows.append((label, sum(times) / len(times), batch[0], batch[1], max(rss), mean))
    print(f"done: {label}", file=sys.stderr)

qualities = ["clean", "ordinary", "poor"]
counts = ", ".join(f"{sum(1 for p in pages if labels[p]['quality'] == q)} {q}" for q in qualities)
print(f"\n{len(pages)} generated pages ({counts}), {os.cpu_count()} cores")
header = f"{'tool':<34}{'s/page':>8}{'pages/s 1w':>12}{'pages/s 2w':>12}{'peak RSS MB':>13}" + "".join(f"{'CER ' + q:>14}" for q in qualities)
print(header)
print("-" * len(header))
for label, per_page, b1, b2, rss, mean in rows:
    print(f"{label:<34}{per_page:>8.2f}{b1:>12.2f}{b2:>12.2f}{rss:>13.0f}" + "".join(f"{mean.get(q, float('nan')):>14.4f}" for q in qualities))

ours = rows[-1]
tess = rows[1]
best_ocrmypdf = max(rows[2][2], rows[3][2])
best_poor = min(r[5]["poor"] for r in rows[:-1])
print()
print(f"sohoa per page vs tesseract OMP=1:        {tess[1] / ours[1]:.2f}x faster")
print(f"sohoa batch vs tesseract OMP=1 (1 worker): {ours[2] / tess[2]:.2f}x pages/s")
print(f"sohoa batch vs best ocrmypdf (1 worker):   {ours[2] / best_ocrmypdf:.2f}x pages/s")
print(f"sohoa 2 workers vs 1:                      {ours[3] / ours[2]:.2f}x")
print(f"sohoa poor-scan CER vs best peer:          {ours[5]['poor'] / best_poor:.2f}x" if best_poor > 0 else "best peer poor CER is 0")
print(f"sohoa peak RSS vs tesseract OMP=1:         {ours[4] / tess[4]:.2f}x")
