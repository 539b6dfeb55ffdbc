"""The text of a PDF that headless Chromium printed, read without a PDF library (none is in the test
environment): its objects, each page's content streams (Flate-compressed), and each font's ToUnicode
map, which turns the glyph codes the text operators show back into characters. Enough for Chromium's
(Skia's) PDFs: plain objects, no object streams, no encryption; not a general PDF reader."""
from __future__ import annotations

import re
import unicodedata
import zlib

OBJ = re.compile(rb"(?<![\d])(\d+) 0 obj\b")
REF = rb"(\d+) 0 R"
TOKEN = re.compile(rb"\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>|\[|\]|/[^\s/\[\]()<>]+|-?\d*\.?\d+|[A-Za-z'\"*]+")


def objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number -> (dictionary text, decoded stream or None)."""
    found: dict[int, tuple[bytes, bytes | None]] = {}
    marks = list(OBJ.finditer(pdf))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(pdf)
        chunk = pdf[m.end():end]
        at = chunk.find(b"stream")
        if at < 0 or b"endobj" in chunk[:at]:
            found[int(m.group(1))] = (chunk[:chunk.find(b"endobj")], None)
            continue
        head = chunk[:at]
        body = chunk[at + len(b"stream"):]
        body = body[2:] if body.startswith(b"\r\n") else body[1:]
        length = re.search(rb"/Length\s+(\d+)(?!\s+0\s+R)", head)
        data = body[:int(length.group(1))] if length else body[:body.rfind(b"endstream")]
        if b"/FlateDecode" in head:
            data = zlib.decompress(data)
        found[int(m.group(1))] = (head, data)
    return found


def _cmap(data: bytes) -> tuple[dict[bytes, str], int]:
    """A ToUnicode CMap: code bytes -> text, and the code width in bytes."""
    width = 2
    space = re.search(rb"begincodespacerange\s*<([0-9A-Fa-f]+)>", data)
    if space:
        width = len(space.group(1)) // 2
    out: dict[bytes, str] = {}

    def text(hexdigits: bytes) -> str:
        return bytes.fromhex(hexdigits.decode()).decode("utf-16-be", errors="replace")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            out[bytes.fromhex(src.decode())] = text(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]*>|\[[^\]]*\])", block):
            a, b = int(lo, 16), int(hi, 16)
            n = len(lo) // 2
            if dst.startswith(b"["):
                targets = re.findall(rb"<([0-9A-Fa-f]*)>", dst)
                for k, t in enumerate(targets[: b - a + 1]):
                    out[(a + k).to_bytes(n, "big")] = text(t)
            else:
                start = bytes.fromhex(dst[1:-1].decode())
                first = int.from_bytes(start, "big")
                for k in range(b - a + 1):
                    out[(a + k).to_bytes(n, "big")] = (first + k).to_bytes(len(start), "big").decode(
                        "utf-16-be", errors="replace")
    return out, width


def _deref(objs: dict, value: bytes) -> bytes:
    m = re.fullmatch(rb"\s*" + REF + rb"\s*", value)
    return objs[int(m.group(1))][0] if m else value


def _fonts(objs: dict, page: bytes) -> dict[bytes, tuple[dict[bytes, str], int]]:
    """The page's font resource names -> their ToUnicode maps."""
    res = re.search(rb"/Resources\s*(" + REF + rb"|<<.*>>)", page, re.S)
    resources = _deref(objs, res.group(1)) if res else b""
    fonts = re.search(rb"/Font\s*(" + REF + rb"|<<(.*?)>>)", resources, re.S)
    if not fonts:
        return {}
    table = _deref(objs, fonts.group(1))
    out = {}
    for name, num in re.findall(rb"/([^\s/]+)\s+" + REF, table):
        font = objs[int(num)][0]
        tu = re.search(rb"/ToUnicode\s+" + REF, font)
        if tu and objs[int(tu.group(1))][1] is not None:
            out[name] = _cmap(objs[int(tu.group(1))][1])
    return out


def _literal(token: bytes) -> bytes:
    body = token[1:-1]
    return re.sub(rb"\\([nrtbf()\\]|[0-7]{1,3})",
                  lambda m: bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit()
                  else {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(m.group(1), m.group(1)),
                  body)


def _show(raw: bytes, cmap: tuple[dict[bytes, str], int] | None) -> str:
    if cmap is None:
        return raw.decode("latin-1")
    table, width = cmap
    return "".join(table.get(raw[i:i + width], "") for i in range(0, len(raw), width))


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page, in page order, words and lines separated by spaces."""
    objs = objects(pdf)
    tree = [n for n, (d, _) in objs.items() if re.search(rb"/Type\s*/Pages\b", d)]
    order: list[int] = []

    def walk(num: int) -> None:
        head = objs[num][0]
        if re.search(rb"/Type\s*/Page(?!s)", head):
            order.append(num)
            return
        kids = re.search(rb"/Kids\s*\[(.*?)\]", head, re.S)
        for kid in re.findall(REF, kids.group(1) if kids else b""):
            walk(int(kid))

    roots = [n for n in tree if b"/Parent" not in objs[n][0]]
    for r in roots:
        walk(r)
    texts = []
    for num in order:
        page = objs[num][0]
        fonts = _fonts(objs, page)
        contents = re.search(rb"/Contents\s*(\[[^\]]*\]|" + REF + rb")", page)
        refs = re.findall(REF, contents.group(1)) if contents else []
        stream = b"\n".join(objs[int(r)][1] or b"" for r in refs)
        texts.append(_content_text(stream, fonts))
    return texts


def _content_text(stream: bytes, fonts: dict) -> str:
    out: list[str] = []
    font = None
    operands: list[bytes] = []
    for tok in TOKEN.findall(stream):
        if tok.startswith((b"(", b"<", b"/", b"[", b"]")) or re.fullmatch(rb"-?\d*\.?\d+", tok):
            operands.append(tok)
            continue
        if tok == b"Tf" and len(operands) >= 2:
            font = fonts.get(operands[-2][1:])
        elif tok in (b"Tj", b"'", b'"', b"TJ"):
            for o in operands:
                if o.startswith(b"<"):
                    out.append(_show(bytes.fromhex(re.sub(rb"\s", b"", o[1:-1]).decode()), font))
                elif o.startswith(b"("):
                    out.append(_show(_literal(o), font))
                elif tok == b"TJ" and re.fullmatch(rb"-?\d*\.?\d+", o) and float(o) < -250:
                    out.append(" ")
        elif tok in (b"Td", b"TD") and len(operands) >= 2:
            if float(operands[-1]) != 0:           # moved to another line; along the line: same word
                out.append(" ")
        elif tok in (b"T*", b"Tm", b"ET"):
            out.append(" ")
        operands = []
    return " ".join(unicodedata.normalize("NFKC", "".join(out)).split())   # ligatures (ﬁ) as letters
