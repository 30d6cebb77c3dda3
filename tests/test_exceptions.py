"""The index of exceptions (docs/*/exceptions.md) says what the programs really meet.

Each table row is `exception (base classes) | errno name<br>Linux / macOS / Windows | meaning |
what to do | links to the page sections that show it`. The checks below read those rows from
both languages and fail when:

1. a class does not exist or its bases (`__bases__`) are not the ones in parentheses;
2. a Linux number is not Python's `errno` value here, or Python raises another class for it;
3. a macOS or Windows number differs from the platform notes (snippets/output/errno.md, the
   table platforms.md shows) or, for a name that table lacks, from SOURCES below;
4. a link does not land on a section that shows the named snippet (its code, or a recorded run
   of it), on a page that includes the snippet;
5. an exception a snippet catches (`except`, `contextlib.suppress()`), or that appears in a
   snippet's `#>` lines or in snippets/output/*.txt, has no row; likewise an errno name there;
6. the two languages differ in their rows.

Each check is a function that returns its problems; test_the_checks_can_fail feeds each one a
page broken on purpose.
"""

import ast
import asyncio
import builtins
import errno
import importlib
import re
import socket
import ssl
from dataclasses import dataclass

import pytest

from support.pages import INCLUDE, read
from support.paths import DOCS, LANGS, OUTPUT, SNIPPETS

PAGE = "exceptions.md"

# macOS and Windows numbers for the errno names the platform notes' table does not have:
# (macOS, Windows), as the page shows them.
# - macOS: XNU bsd/sys/errno.h (EINTR 4, EMFILE 24, EADDRINUSE 48, ENETUNREACH 51).
# - Windows: the value of errno.NAME there. Modules/errnomodule.c #undefs EADDRINUSE and
#   ENETUNREACH, so they take Winsock's WSAEADDRINUSE 10048 and WSAENETUNREACH 10051
#   (Microsoft's "Windows Sockets Error Codes"); EMFILE and EINTR keep the C runtime's 24 and 4
#   (Microsoft's "errno constants"), and PC/errmap.h winerror_to_errno() maps WSAEMFILE and
#   WSAEINTR to them (mark 4 on the page).
SOURCES = {
    "EADDRINUSE": ("48", "10048 `WSAEADDRINUSE`"),
    "ENETUNREACH": ("51", "10051 `WSAENETUNREACH`"),
    "EMFILE": ("24", "24 ⁴"),
    "EINTR": ("4", "4 ⁴"),
}

# Caught by a snippet, yet no failure of its own: tls_asyncio_client.py catches everything only
# to abort the transport, and raises it again.
CATCH_ALLS = {"BaseException"}

LINK = re.compile(r"\[`(?P<file>[\w.]+\.py)`\]\((?P<page>[\w/.-]+\.md)#(?P<anchor>[a-z0-9-]+)\)")
ERRNO_CELL = re.compile(r"`(?P<name>E[A-Z]+)`<br>(?P<linux>.+?) / (?P<macos>.+?) / (?P<windows>.+)")
HEADING = re.compile(r"^(?P<level>#{1,6}) .*\{ ?#(?P<id>[a-z0-9-]+) ?\}\s*$")
CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception|Interrupt|Group)\b")
ERRNO_NAME = re.compile(r"\bE[A-Z]{3,}\b")


@dataclass(frozen=True)
class Row:
    cls: str
    bases: tuple
    errno: str | None
    linux: str | None
    macos: str | None
    windows: str | None
    links: tuple  # (file, page, anchor), ...

    def key(self):
        """What both languages must share: everything but the prose."""
        return (self.cls, self.bases, self.errno, self.linux, self.macos, self.windows, self.links)


def cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def rows(text):
    """The rows of every table of the page, in order; a malformed row raises."""
    found = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not re.fullmatch(r"\|(---\|)+", line.strip()):
            continue
        assert len(cells(lines[i - 1])) == 5, f"a table header of 5 columns: {lines[i - 1]}"
        for body in lines[i + 1 :]:
            if not body.startswith("|"):
                break
            exc, number, _means, _do, shown = cells(body)
            assert len(cells(body)) == 5, body
            names = re.findall(r"`([^`]+)`", exc)
            assert re.fullmatch(r"`[\w.]+` \(`[\w.]+`(, `[\w.]+`)*\)", exc), exc
            links = tuple(m.group("file", "page", "anchor") for m in LINK.finditer(shown))
            assert links and LINK.sub("", shown).replace(",", "").strip() == "", shown
            if number == "—":
                name = linux = macos = windows = None
            else:
                match = ERRNO_CELL.fullmatch(number)
                assert match, number
                name, linux, macos, windows = match.group("name", "linux", "macos", "windows")
            found.append(Row(names[0], tuple(names[1:]), name, linux, macos, windows, links))
    return found


def resolve(name):
    """The class a dotted name in the table stands for (`ssl.SSLError`, `OSError`)."""
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module) if module else builtins, attr)


def check_classes(found):
    problems = []
    for row in found:
        try:
            cls, bases = resolve(row.cls), tuple(resolve(base) for base in row.bases)
        except (AttributeError, ImportError) as exc:
            problems.append(f"{row.cls}: {exc}")
            continue
        if cls.__bases__ != bases:
            problems.append(f"{row.cls}: bases {cls.__bases__}, not {bases}")
    return problems


def check_linux(found):
    problems = []
    for row in found:
        if row.errno is None:
            continue
        value = getattr(errno, row.errno, None)
        if str(value) != row.linux:
            problems.append(
                f"{row.errno}: errno.{row.errno} is {value} here, the page says {row.linux}"
            )
            continue
        raised = type(OSError(value, row.errno))
        if raised is not resolve(row.cls):
            problems.append(
                f"{row.errno}: Python raises {raised.__name__}, the page says {row.cls}"
            )
    return problems


def platform_notes():
    """errno name -> (Python class, Linux, macOS, Windows), as platforms.md shows them."""
    table = (OUTPUT / "errno.md").read_text(encoding="utf-8")
    notes = {}
    for line in table.splitlines()[2:]:
        name, cls, linux, macos, windows = cells(line)
        notes[name.strip("`")] = (cls.strip("`"), linux, macos, windows)
    return notes


def check_other_platforms(found):
    problems = []
    notes = platform_notes()
    for row in found:
        if row.errno is None:
            continue
        if row.errno in notes:
            expected = notes[row.errno]
            if (row.cls, row.linux, row.macos, row.windows) != expected:
                problems.append(
                    f"{row.errno}: {row.cls, row.linux, row.macos, row.windows}, "
                    f"the platform notes say {expected}"
                )
        elif (row.macos, row.windows) != SOURCES.get(row.errno):
            problems.append(
                f"{row.errno}: macOS/Windows {row.macos, row.windows}, "
                f"its sources say {SOURCES.get(row.errno)}"
            )
    return problems


def sections(text):
    """anchor -> the text of its section (to the next heading of the same or a higher level)."""
    lines = text.splitlines()
    found, fence = [], False
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        match = None if fence else HEADING.match(line)
        if match:
            found.append((i, len(match.group("level")), match.group("id")))
    result = {}
    for n, (start, level, anchor) in enumerate(found):
        end = next((i for i, lv, _ in found[n + 1 :] if lv <= level), len(lines))
        result[anchor] = "\n".join(lines[start:end])
    return result


def shows(section, file):
    """Whether a section includes the snippet or a recorded run of it."""
    stem = file.removesuffix(".py")
    return any(
        path == f"snippets/{file}"
        or re.fullmatch(rf"snippets/output/{re.escape(stem)}(-[\w-]+)?\.txt", path)
        for path in INCLUDE.findall(section)
    )


def check_links(found, lang):
    problems = []
    for row in found:
        for file, page, anchor in row.links:
            path = DOCS / lang / page
            if not path.exists():
                problems.append(f"{lang}: {page} does not exist")
                continue
            text = path.read_text(encoding="utf-8")
            section = sections(text).get(anchor)
            if section is None:
                problems.append(f"{lang}/{page}: no heading {{ #{anchor} }}")
            elif f'"snippets/{file}"' not in text:
                problems.append(f"{lang}/{page} does not include snippets/{file}")
            elif not shows(section, file):
                problems.append(f"{lang}/{page}#{anchor} shows neither {file} nor a run of it")
    return problems


def dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return None


def caught():
    """Short class name -> the snippets whose `except` or `contextlib.suppress()` names it."""
    found = {}
    for path in sorted(SNIPPETS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            elif isinstance(node, ast.Call) and dotted(node.func) in (
                "contextlib.suppress",
                "suppress",
            ):
                types = node.args
            else:
                continue
            for name in map(dotted, types):
                found.setdefault(name.rpartition(".")[2], set()).add(path.name)
    return found


def printed():
    """Every line a reader sees a snippet print: its `#>` lines and the recorded runs."""
    lines = []
    for path in sorted(SNIPPETS.glob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("#>"):
                lines.append((path.name, line))
    for path in sorted(OUTPUT.glob("*.txt")):
        lines += [(path.name, line) for line in path.read_text(encoding="utf-8").splitlines()]
    return lines


def shown():
    """(short class names, errno names) that appear in what the snippets print."""
    classes, names = {}, {}
    for where, line in printed():
        for name in CLASS_NAME.findall(line):
            classes.setdefault(name, set()).add(where)
        errnos = [n for n in ERRNO_NAME.findall(line) if hasattr(errno, n)]
        errnos += [errno.errorcode[int(n)] for n in re.findall(r"\[Errno (\d+)\]", line)]
        for name in errnos:
            names.setdefault(name, set()).add(where)
    return classes, names


def check_complete(found):
    in_table = {row.cls.rpartition(".")[2] for row in found}
    errnos = {row.errno for row in found}
    classes, names = shown()
    problems = [
        f"{name} (caught in {sorted(where)}) has no row"
        for name, where in caught().items()
        if name not in in_table | CATCH_ALLS
    ]
    problems += [
        f"{name} (printed in {sorted(where)}) has no row"
        for name, where in classes.items()
        if name not in in_table
    ]
    problems += [
        f"{name} (printed in {sorted(where)}) has no row"
        for name, where in names.items()
        if name not in errnos
    ]
    return problems


def check_same_rows(ko, en):
    ko_keys, en_keys = [row.key() for row in ko], [row.key() for row in en]
    if ko_keys == en_keys:
        return []
    differ = [(k, e) for k, e in zip(ko_keys, en_keys, strict=False) if k != e]
    return [f"ko and en rows differ ({len(ko_keys)} vs {len(en_keys)}): {differ[:2]}"]


TABLE = {lang: rows(read(lang, PAGE)) for lang in LANGS}


@pytest.mark.parametrize("lang", LANGS)
def test_each_class_exists_with_the_bases_given(lang):
    assert TABLE[lang]
    assert check_classes(TABLE[lang]) == []


@pytest.mark.parametrize("lang", LANGS)
def test_linux_numbers_are_pythons_and_pick_the_class_given(lang):
    assert check_linux(TABLE[lang]) == []


@pytest.mark.parametrize("lang", LANGS)
def test_macos_and_windows_numbers_agree_with_the_platform_notes(lang):
    assert check_other_platforms(TABLE[lang]) == []


def test_every_source_is_used_and_the_platform_notes_lack_it():
    used = {row.errno for row in TABLE["en"] if row.errno} - set(platform_notes())
    assert used == set(SOURCES)


@pytest.mark.parametrize("lang", LANGS)
def test_each_link_lands_on_a_section_that_shows_the_snippet(lang):
    assert check_links(TABLE[lang], lang) == []


def test_every_exception_the_snippets_catch_or_print_has_a_row():
    assert check_complete(TABLE["en"]) == []
    assert CATCH_ALLS <= set(caught())  # still needed: drop it once no snippet does that


def test_both_languages_have_the_same_rows():
    assert check_same_rows(TABLE["ko"], TABLE["en"]) == []


def not_here(text):
    """The list of #not-here: (name, base) for each `name` (`base`) item."""
    return re.findall(r"^- `([\w.]+)` \(`([\w.]+)`\)", sections(text)["not-here"], re.M)


@pytest.mark.parametrize("lang", LANGS)
def test_what_is_not_in_the_table_is_met_by_no_snippet(lang):
    """#not-here: each class exists with that base (an errno name: Python raises that class for
    it), no snippet names it, and no snippet calls readexactly()."""
    items = not_here(read(lang, PAGE))
    assert [name for name, _ in items] == [
        "EALREADY",
        "ConnectionAbortedError",
        "socket.gaierror",
        "asyncio.IncompleteReadError",
    ]
    sources = "\n".join(p.read_text(encoding="utf-8") for p in SNIPPETS.glob("*.py"))
    for name, base in items:
        if name.startswith("E") and hasattr(errno, name):
            assert type(OSError(getattr(errno, name), name)) is resolve(base)
        else:
            assert resolve(name).__bases__ == (resolve(base),)
        assert name.rpartition(".")[2] not in sources, name
    assert "readexactly" not in sources


def shadowed(source):
    """`except` clauses that can never run: a class after a clause that catches its base."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Try):
            continue
        earlier = []
        for handler in node.handlers:
            if handler.type is None:
                continue
            types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            classes = [resolve(dotted(t)) for t in types]
            found += [
                f"line {handler.lineno}: {cls.__name__} after {base.__name__}"
                for cls in classes
                for base in earlier
                if issubclass(cls, base)
            ]
            earlier += classes
    return found


def test_no_snippet_catches_a_subclass_after_its_base():
    """#exceptions: the clients' `except` clauses run from subclass to base class."""
    assert shadowed("try:\n    pass\nexcept OSError:\n    pass\nexcept TimeoutError:\n    pass\n")
    for path in sorted(SNIPPETS.glob("*.py")):
        assert shadowed(path.read_text(encoding="utf-8")) == [], path.name


def test_the_timeout_classes_are_one():
    """#timeouts: socket.timeout (3.10) and asyncio.TimeoutError (3.11) are TimeoutError."""
    assert socket.timeout is TimeoutError
    assert asyncio.TimeoutError is TimeoutError


def test_an_ssl_errors_errno_is_openssls_code():
    """#ssl: a non-blocking handshake with no answer yet raises SSLWantReadError, errno 2."""
    context = ssl.create_default_context()
    left, right = socket.socketpair()
    with (
        left,
        right,
        context.wrap_socket(
            left, server_hostname="localhost", do_handshake_on_connect=False
        ) as sock,
    ):
        sock.setblocking(False)
        with pytest.raises(ssl.SSLWantReadError) as info:
            sock.do_handshake()
    assert info.value.errno == ssl.SSL_ERROR_WANT_READ == 2
    assert not isinstance(info.value, BlockingIOError)


BROKEN = {  # check -> (what to break in the English page, replaced by what)
    check_classes: ("`BrokenPipeError` (`ConnectionError`)", "`BrokenPipeError` (`OSError`)"),
    check_linux: ("`ECONNRESET`<br>104 /", "`ECONNRESET`<br>105 /"),
    check_other_platforms: ("104 / 54 /", "104 / 55 /"),
    check_links: ("(closing.md#fin-and-rst)", "(closing.md#broken-pipe)"),
    check_complete: ("| `BrokenPipeError`", "| `ConnectionError`"),
}


@pytest.mark.parametrize("check", [*BROKEN, "class", "anchor", "parity"])
def test_the_checks_can_fail(check):
    text = read("en", PAGE)
    more = {
        "class": (check_classes, "`ssl.SSLWantReadError`", "`ssl.SSLWantReadErr`"),
        "anchor": (check_links, "(closing.md#fin-and-rst)", "(closing.md#fin-and-rsx)"),
    }
    if check == "parity":
        broken = rows(text.replace("(closing.md#fin-and-rst)", "(closing.md#orderly-close)", 1))
        assert check_same_rows(TABLE["ko"], broken)
        return
    check, old, new = more[check] if check in more else (check, *BROKEN[check])
    assert old in text
    assert check(TABLE["en"], *(["en"] if check is check_links else [])) == []
    broken = rows(text.replace(old, new))
    problems = check(broken, *(["en"] if check is check_links else []))
    assert problems, f"{check.__name__} did not notice {old!r} -> {new!r}"
