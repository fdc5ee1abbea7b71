"""The HTML report renders from a fixture run folder alone, and opens in headless Chromium with every
image loaded and no console error."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from genredact.cli import main
from genredact.report import save_grid
from genredact.report.html import write_html_report

BROWSER = shutil.which("chromium-headless-shell") or shutil.which("chromium")
PROBE = """<script>
window.__errs = [];
window.addEventListener('error', e => window.__errs.push(String(e.message || (e.target && e.target.src) || 'error')), true);
const _ce = console.error; console.error = (...a) => { window.__errs.push(a.join(' ')); _ce(...a); };
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const d = document.createElement('div'); d.id = 'probe';
  d.textContent = JSON.stringify({images: imgs.length, broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length, errors: window.__errs});
  document.body.appendChild(d);
});
</script>"""


def _fixture_run(path):
    rng = np.random.default_rng(0)
    (path / "model").mkdir(parents=True)
    (path / "audit").mkdir()
    (path / "config.json").write_text(json.dumps({"model": "fashion-dcgan", "target": "label=Sandal", "method": "redact-classifier", "seed": 0, "eval_seed": 1234,
                                                  "judge": "fashion-judge", "judge_independent": True, "config": {}}))
    (path / "model" / "redaction.json").write_text(json.dumps({"target": {"kind": "classifier", "labels": [5]}, "config": {"steps": 300}, "parent_sha256": "ab" * 32}))
    recs = [{"name": k, "value": v, "model": m} for m, vals in {"before": {"residual_rate": 0.11, "residual_upper95": 0.12, "fid": 8.5, "n": 10000},
                                                            "after": {"residual_rate": 0.004, "residual_upper95": 0.005, "fid": 6.5, "wall_s": 55.0, "steps": 300},
                                                            "retrain": {"residual_rate": 0.009, "residual_upper95": 0.011, "fid": 7.3}}.items() for k, v in vals.items()]
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    (path / "log.json").write_text(json.dumps({"steps": 300, "wall_s": 55.0}))
    (path / "provenance.json").write_text(json.dumps({"genredact": "0.1.0", "torch": "2.13.0", "checkpoints": {"parent": {"ref": "fashion-dcgan", "sha256": "ab" * 32}}}))
    for name in ("before", "after"):
        save_grid(rng.integers(0, 255, (16, 1, 28, 28), dtype=np.uint8), path / "samples" / f"{name}.png")
    save_grid(rng.integers(0, 255, (8, 1, 28, 28), dtype=np.uint8), path / "audit" / "relearn-redacted.png")
    (path / "audit" / "relearn.json").write_text(json.dumps({"attack": "relearn", "config": {"threshold": 0.05}, "summary": {"attack": "relearn", "relearn_steps": 40},
                                                             "models": {"redacted": {"relearn_steps": 40, "curve": [[0, 0.004], [20, 0.03], [40, 0.06]], "grid_png": "relearn-redacted.png"},
                                                                        "pretrained": {"relearn_steps": 0, "curve": [[0, 0.11]]}}}))
    return path


def _open_in_browser(page, tmp_path):
    probe = tmp_path / "probe.html"
    text = page.read_text()
    probe.write_text(text.replace("<head>", "<head>" + PROBE, 1))
    res = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120)
    dom = res.stdout
    start = dom.index('<div id="probe">') + len('<div id="probe">')
    return json.loads(dom[start: dom.index("</div>", start)].replace("&quot;", '"'))


def test_report_from_the_run_folder_alone(tmp_path):
    run = _fixture_run(tmp_path / "run")
    path = write_html_report(run)
    page = path.read_text()
    assert path.stat().st_size < 5 * 2**20
    for text in ("redact-classifier", "Δ vs retrain", "relearn", "sha256 parent", "samples/before.png"):
        assert text in page
    assert page.index("samples/before.png") < page.index("samples/after.png")
    # 3 PNGs of the folder + the residual plot + the relearn plot, all embedded (self-contained)
    assert page.count('src="data:image/png;base64,') == 5 and "src=\"samples" not in page
    assert "retrain" in (run / "report.md").read_text()
    assert not [p for p in run.iterdir() if p.name.startswith(".")]


def test_report_cli_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a genredact run folder" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


@pytest.mark.skipif(BROWSER is None and not os.environ.get("GENREDACT_REQUIRE_BROWSER"), reason="no headless Chromium (scripts/test installs it)")
def test_report_opens_in_chromium_with_every_image(tmp_path):
    assert BROWSER is not None, "GENREDACT_REQUIRE_BROWSER is set but chromium-headless-shell is not installed"
    run = _fixture_run(tmp_path / "run")
    result = _open_in_browser(write_html_report(run), tmp_path)
    assert result == {"images": 5, "broken": 0, "errors": []}
    # The probe can fail: a page with a broken image and a script error is caught.
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head></head><body><img src="data:image/png;base64,AAAA"><script>undefinedFn()</script></body></html>')
    result = _open_in_browser(bad, tmp_path)
    assert result["broken"] == 1 and result["errors"]
