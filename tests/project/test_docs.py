"""The documentation stays navigable and complete: every relative link in README.md and docs/
points at a file that exists (and, for a #anchor into Markdown, at a heading that exists), and
every setting in app/settings.py is in the settings table of docs/deployment.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.clinical_settings import ClinicalSettings
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HTML_TARGET = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, …


def without_code(markdown: str) -> str:
    """The text outside fenced blocks and code spans: a `[x](y)` inside code is not a link."""
    return CODE_SPAN.sub("", FENCE.sub("", markdown))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text, lower-cased, punctuation dropped, spaces
    to hyphens (``## Modes: `CDS_ENV` `` → ``modes-cds_env``)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for match in HEADING.finditer(FENCE.sub("", markdown)):
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def link_targets(markdown: str) -> list[str]:
    text = without_code(markdown)
    return [m.group(1) for pattern in (INLINE_LINK, REFERENCE_DEFINITION, HTML_TARGET) for m in pattern.finditer(text)]


def broken_links(document: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for target in link_targets(document.read_text(encoding="utf-8")):
        if EXTERNAL.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (document.parent / path_part).resolve() if path_part else document
        if not resolved.is_relative_to(root):
            problems.append(f"{target}: outside the repository")
        elif not resolved.exists():
            problems.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved.read_text(encoding="utf-8")):
            problems.append(f"{target}: no heading #{anchor} in {resolved.relative_to(root)}")
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    assert broken_links(document) == []


def test_the_checker_sees_what_it_should(tmp_path: Path) -> None:
    assert slug("Modes: `CDS_ENV`") == "modes-cds_env"
    assert (
        slug("2. `OPTIONS` … `400`: CORS refused the sandbox's origin")
        == "2-options--400-cors-refused-the-sandboxs-origin"
    )
    assert slug("Limitations (known, not hidden)") == "limitations-known-not-hidden"
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n## Part\n\n## Part\n\n```sh\n# not a heading [x](gone.md)\n```\n\n"
        "[ok](#part-1) [ok](page.md#title) ![ok](page.md) `[code](gone.md)` [web](https://example.org/x)\n"
        '[bad](gone.md) [bad](#nowhere) [bad](page.md#part-2) <img src="missing.png">\n',
        encoding="utf-8",
    )
    assert [problem.split(":")[0] for problem in broken_links(page, tmp_path)] == [
        "gone.md",
        "#nowhere",
        "page.md#part-2",
        "missing.png",
    ]


def test_every_setting_is_in_the_deployment_settings_table() -> None:
    deployment = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    table = deployment[deployment.index("## Settings (environment variables)") :]
    table = table[: table.index("\n## ", 1)]
    missing = [
        f"CDS_{name.upper()}"
        for name in Settings.model_fields
        if name != "clinical" and f"`CDS_{name.upper()}`" not in table
    ]
    assert missing == []
    assert "`CDS_CLINICAL__" in table


def test_every_clinical_setting_is_in_the_clinical_settings_table() -> None:
    rules = (ROOT / "docs" / "clinical-rules.md").read_text(encoding="utf-8")
    table = rules[rules.index("## Clinical settings") :]
    table = table[: table.index("\n## ", 1)]
    assert [name for name in ClinicalSettings.model_fields if f"`{name}`" not in table] == []
