"""Character encoding of a page: detect it, decode with it, encode back into it.

Chinese portals still serve GBK/GB2312/GB18030 as often as UTF-8, so the
filter must read the page in the charset the page itself uses and hand it back
in the same one. The order follows the HTML standard's sniffing algorithm,
shortened to what matters for a whole document held in memory:

1. a byte order mark (UTF-8, UTF-16 LE/BE);
2. the charset the transport declared (an HTTP ``Content-Type`` parameter);
3. a ``<meta charset>`` or ``<meta http-equiv="Content-Type">`` in the first
   :data:`PRESCAN_BYTES` bytes;
4. strict UTF-8, which an undeclared modern page almost always is;
5. charset-normalizer's best guess, the only statistical step, for an
   undeclared legacy page; GB18030 if it has no answer.

One exception to the order, where the standard follows the label and a
browser shows mojibake: a page *labelled* with a legacy Chinese charset (steps
2 and 3) whose bytes are strict UTF-8 with at least
:data:`MIN_UTF8_SEQUENCES` multi-byte sequences is UTF-8. Re-saved pages
and proxies produce such pages; a real GB2312/GBK page of any length
practically never validates as UTF-8 (its two-byte characters would all have
to fall on UTF-8's lead/continuation pattern). Its ``source`` is
``sniffed-over-label``.

Labels are mapped the way browsers map them: ``gb2312``, ``gbk``, ``x-gbk``
and friends are decoded with Python's ``gb18030`` codec, a superset that agrees
with GBK on every GBK byte sequence (pages labelled gb2312 routinely contain
GBK-only characters).
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

logger = logging.getLogger(__name__)

PRESCAN_BYTES = 64 * 1024  # the standard says 1024; real portals put meta later
MIN_UTF8_SEQUENCES = 16  # multi-byte sequences that outweigh a legacy label

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# WHATWG encoding labels that Chinese pages use, and the codec decoding them.
_CHINESE_LABELS = {"gb2312", "gbk", "x-gbk", "gb_2312", "gb_2312-80", "chinese", "csgb2312",
                   "csiso58gb231280", "iso-ir-58", "gb18030", "cp936", "ms936", "windows-936"}
_GBK_LABELS = _CHINESE_LABELS - {"gb18030"}
_META = re.compile(
    rb"<meta\b[^>]*?\bcharset\s*=\s*[\"']?\s*([A-Za-z0-9._:\-]+)", re.IGNORECASE)
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class PageEncoding:
    """How a page is encoded.

    ``label`` is the charset as the page (or transport) names it, ``codec`` the
    Python codec used to decode and encode it, ``source`` how it was found
    (``bom``, ``transport``, ``meta``, ``sniffed``, ``guessed``) and ``bom`` the
    byte order mark that precedes the content (kept on output).
    """

    label: str
    codec: str
    source: str
    bom: bytes = b""

    @property
    def output_codec(self) -> str:
        """The codec new text is written in: the declared one where Python has
        it (``gbk`` for a GBK page, so no GB18030-only sequence appears in it)."""
        if self.label.strip().lower() in _GBK_LABELS:
            return "gbk"
        return self.codec


def codec_for(label: str) -> str | None:
    """The Python codec for a charset label, or None if Python does not know it.

    >>> codec_for("GB2312"), codec_for("utf8"), codec_for("no-such")
    ('gb18030', 'utf-8', None)
    """
    name = label.strip().lower()
    if name in _CHINESE_LABELS:
        return "gb18030"
    if name in {"utf-16", "utf-16le", "utf-16be"}:
        return None  # a UTF-16 page without a BOM is not served in practice
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def meta_charset(raw: bytes) -> str | None:
    """The charset named by the first ``<meta>`` declaration, if any."""
    head = _COMMENT.sub(b"", raw[:PRESCAN_BYTES])
    match = _META.search(head)
    return match.group(1).decode("ascii") if match else None


def detect(raw: bytes, declared: str | None = None) -> PageEncoding:
    """Work out the encoding of ``raw`` (see the module docstring for the order)."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return PageEncoding(codec, codec, "bom", bom)
    utf8 = _is_utf8(raw)
    for label, source in ((declared, "transport"), (meta_charset(raw), "meta")):
        if label:
            codec = codec_for(label)
            if codec == "gb18030" and utf8 and _multibyte_sequences(raw) >= MIN_UTF8_SEQUENCES:
                logger.info("page labelled %r by %s is UTF-8; read as UTF-8", label, source)
                return PageEncoding("utf-8", "utf-8", "sniffed-over-label")
            if codec is not None:
                return PageEncoding(label, codec, source)
            logger.info("unknown charset %r declared by %s; sniffing instead", label, source)
    if utf8:
        return PageEncoding("utf-8", "utf-8", "sniffed")
    return _guess(raw)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _multibyte_sequences(raw: bytes) -> int:
    """Lead bytes of multi-byte UTF-8 sequences (0xC2-0xF4) in ``raw``, which
    is valid UTF-8: one per non-ASCII character."""
    return sum(raw.count(bytes([lead])) for lead in range(0xC2, 0xF5))


def _guess(raw: bytes) -> PageEncoding:
    from charset_normalizer import from_bytes  # only for undeclared legacy pages

    best = from_bytes(raw[:PRESCAN_BYTES * 4]).best()
    codec = codec_for(best.encoding) if best is not None else None
    if codec is None:
        codec = "gb18030"
    return PageEncoding(codec, codec, "guessed")


def decode(raw: bytes, encoding: PageEncoding) -> tuple[str, bool]:
    """``(text, exact)``: the page as text, and whether every byte decoded.

    Undecodable bytes become U+FFFD; ``exact`` is then False, and so is it when
    encoding the text again would not give back the same bytes.
    """
    body = raw[len(encoding.bom):]
    try:
        text = body.decode(encoding.codec)
    except UnicodeDecodeError:
        logger.info("page is not valid %s; undecodable bytes replaced", encoding.label)
        return body.decode(encoding.codec, errors="replace"), False
    return text, text.encode(encoding.codec) == body


def encode(text: str, encoding: PageEncoding) -> bytes:
    """Encode ``text`` back into the page's encoding (characters it lacks as
    numeric character references), with the page's byte order mark."""
    return encoding.bom + text.encode(encoding.output_codec, errors="xmlcharrefreplace")
