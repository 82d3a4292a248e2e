"""The README's Python example runs as written (keeps the front page true)."""

from __future__ import annotations

import re

from conftest import REPO


def test_readme_python_example_runs():
    text = (REPO / "README.md").read_text()
    lines = text.splitlines()
    assert lines[3] == "pip install -e . && learnlds demo"
    assert lines[4] == "bash scripts/test.sh"
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "README has no python example"
    namespace: dict = {}
    for block in blocks:  # later examples reuse names from earlier ones
        exec(compile(block, "README.md", "exec"), namespace)
    est = namespace["model"]
    assert est.score(namespace["u"], namespace["y"]) > 85
    sgd = namespace["sgd"].system_
    assert abs(sgd.a[0] - (-0.6)) < 0.02
    assert abs(namespace["fit"].model.a[0] - (-0.6)) < 0.02
