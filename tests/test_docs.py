"""Citations stay inside the repository and point at sections that exist.

Code, tests and docs cite the store contract as ``docs/agentmux-store.md §7b`` and the test
machine's notes as ``docs/testing.md §2``. A citation of a section that is not there, or of a
document that is not in the repository (the team's shared design notes), leaves a reader with
nothing to follow; these checks catch both.
"""

from __future__ import annotations

import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".py", ".md", ".toml", ".sh", ".spec", ".yml", ".yaml", ".cfg", ".txt", ".desktop"}
SEARCHED = ("src", "tests", "docs", "packaging", "scripts", "benchmarks", ".github", ".ci")
TOP_LEVEL = ("README.md", "CONTRIBUTING.md", "CHANGELOG.md", "pyproject.toml", "Makefile")

CITATION = re.compile(r"docs/([a-z-]+)\.md`? (§[0-9]+[a-z]?)")
HEADING = re.compile(r"^## (§[0-9]+[a-z]?) ", re.MULTILINE)
# Documents that live outside the repository; spelled in pieces so this file does not match itself.
OUTSIDE = re.compile("|".join([r"\bdesign" + r"\.md", r"ci-" + r"recipe", r"\.\./shared/", r"\bcontract" + r" §",
                               r"(?<!docs/)(?<![(/])agentmux-" + r"store\.md"]))


def text_files() -> list[Path]:
    files = [PROJECT / name for name in TOP_LEVEL if (PROJECT / name).exists()]
    for folder in SEARCHED:
        files += [p for p in sorted((PROJECT / folder).rglob("*"))
                  if p.is_file() and (p.suffix in TEXT_SUFFIXES or p.parent.name == ".ci")]
    return files


def test_every_section_citation_resolves() -> None:
    headings: dict[str, set[str]] = {}
    dangling = []
    for path in text_files():
        for match in CITATION.finditer(path.read_text(encoding="utf-8", errors="replace")):
            document, section = match.groups()
            if document not in headings:
                target = PROJECT / "docs" / f"{document}.md"
                headings[document] = set(HEADING.findall(target.read_text(encoding="utf-8"))) if target.exists() \
                    else set()
            if section not in headings[document]:
                dangling.append(f"{path.relative_to(PROJECT)}: docs/{document}.md {section}")
    assert headings, "no citation found at all: the pattern is wrong"
    assert dangling == []


def test_nothing_cites_documents_outside_the_repository() -> None:
    outside = [f"{path.relative_to(PROJECT)}:{number}: {line.strip()}"
               for path in text_files() if path != Path(__file__).resolve()
               for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
               if OUTSIDE.search(line)]
    assert outside == []


def test_the_outside_pattern_sees_each_kind() -> None:
    for line in ('see design.md "Store writes"', "(see ../shared/ci-recipe.md)", "per contract §7",
                 "as agentmux-store.md §1 says"):
        assert OUTSIDE.search(line), line
    for line in ("docs/agentmux-store.md §7b", "[the contract](agentmux-store.md)", "docs/testing.md §2"):
        assert not OUTSIDE.search(line), line
