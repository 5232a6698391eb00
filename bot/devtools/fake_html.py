"""Message-content rules of the fake Bot API: HTML/MarkdownV2 parsing, lengths, keyboards.

The parsers follow TDLib's behaviour (the code behind the real Bot API) closely enough
that anything refused here is refused by Telegram too. One deliberate difference: a bare
``&`` that does not start a valid entity is refused, while Telegram keeps it literally.
Telegram's leniency there hides missing ``html.escape`` calls, which then break as soon
as the text happens to contain ``&lt;``-like sequences, so the fake is stricter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT_UTF16 = 4096
MAX_CALLBACK_DATA_BYTES = 64

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,7})|([a-zA-Z][a-zA-Z0-9]*));")
_TAG_NAME_RE = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
_ATTR_RE = re.compile(
    r"""\s+([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?"""
)
_MD_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MD_NAMES = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler"}
_MD_KINDS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
    "web_app",
    "copy_text",
)


class ContentRefused(ValueError):
    """Telegram would answer 400 with ``description`` for this content."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass
class Rendered:
    """What a Telegram user sees: plain text plus the message entities over it."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _parse_error(tail: str) -> ContentRefused:
    return ContentRefused(f"Bad Request: can't parse entities: {tail}")


class _Builder:
    """Accumulates rendered text and tracks the UTF-16 position for entity offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, piece: str) -> None:
        self.parts.append(piece)
        self.pos += utf16_len(piece)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        # Telegram silently drops zero-length entities.
        if self.pos > start:
            self.entities.append(
                {"type": kind, "offset": start, "length": self.pos - start, **extra}
            )

    def result(self) -> Rendered:
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return Rendered("".join(self.parts), self.entities)


def _decode_entity(text: str, i: int) -> tuple[str, int]:
    """Decode the HTML entity at ``text[i] == '&'``; return (character, index after it)."""
    m = _ENTITY_RE.match(text, i)
    if m is not None:
        dec, hexa, name = m.groups()
        if name is not None:
            if name in _NAMED_ENTITIES:
                return _NAMED_ENTITIES[name], m.end()
        else:
            code = int(dec) if dec is not None else int(hexa, 16)
            if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                return chr(code), m.end()
    raise _parse_error(
        f'Character "&" at byte offset {_byte_offset(text, i)} does not begin a supported '
        'HTML entity (&lt; &gt; &amp; &quot; &#NNN; &#xHHH;); escape it as "&amp;"'
    )


def _decode_attr(raw: str) -> str:
    if raw[:1] in "\"'":
        raw = raw[1:-1]
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "&":
            ch, i = _decode_entity(raw, i)
            out.append(ch)
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def _open_tag(text: str, i: int) -> tuple[str, dict[str, str], int]:
    """Parse ``<name attr=...>`` at ``i``; return (name, attributes, index after '>')."""
    offset = _byte_offset(text, i)
    m = _TAG_NAME_RE.match(text, i)
    if m is None:
        raise _parse_error(
            f'Unsupported start tag "" at byte offset {offset}; escape a literal "<" as "&lt;"'
        )
    name = m.group(1).lower()
    if name not in _HTML_TAGS:
        raise _parse_error(
            f'Unsupported start tag "{name}" at byte offset {offset}; supported tags are '
            "b, strong, i, em, u, ins, s, strike, del, span, tg-spoiler, a, code, pre, "
            'blockquote, tg-emoji; escape a literal "<" as "&lt;"'
        )
    attrs: dict[str, str] = {}
    j = m.end()
    while (am := _ATTR_RE.match(text, j)) is not None:
        attrs[am.group(1).lower()] = _decode_attr(am.group(2)) if am.group(2) else ""
        j = am.end()
    while j < len(text) and text[j].isspace():
        j += 1
    if j >= len(text) or text[j] != ">":
        raise _parse_error(f'Unclosed start tag "{name}" at byte offset {offset}')
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise _parse_error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
        raise _parse_error(f'Tag "tg-emoji" must have a numeric "emoji-id" at byte offset {offset}')
    return name, attrs, j + 1


def parse_html(text: str) -> Rendered:
    """Parse Bot API HTML into plain text and entities, or raise :class:`ContentRefused`."""
    out = _Builder()
    # Each open tag: (name, attributes, UTF-16 offset where its entity starts).
    stack: list[tuple[str, dict[str, str], int]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "&":
            decoded, i = _decode_entity(text, i)
            out.add(decoded)
        elif ch == "<" and text.startswith("</", i):
            end = text.find(">", i)
            offset = _byte_offset(text, i)
            if end < 0:
                raise _parse_error(f"Unclosed end tag at byte offset {offset}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise _parse_error(f'Unexpected end tag "</{name}>" at byte offset {offset}')
            open_name, attrs, start = stack.pop()
            if name != open_name:
                raise _parse_error(
                    f'Unmatched end tag at byte offset {offset}, expected "</{open_name}>", '
                    f'found "</{name}>"'
                )
            _close_html_entity(out, stack, open_name, attrs, start)
            i = end + 1
        elif ch == "<":
            name, attrs, i = _open_tag(text, i)
            stack.append((name, attrs, out.pos))
        else:
            out.add(ch)
            i += 1
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _close_html_entity(
    out: _Builder,
    stack: list[tuple[str, dict[str, str], int]],
    name: str,
    attrs: dict[str, str],
    start: int,
) -> None:
    language = attrs.get("class", "")
    if name == "code" and stack and stack[-1][0] == "pre" and language.startswith("language-"):
        # <pre><code class="language-x"> is one pre entity carrying the language.
        stack[-1][1]["_language"] = language.removeprefix("language-")
        return
    kind = _HTML_TAGS[name]
    if name == "a":
        if attrs.get("href"):
            out.entity(kind, start, url=attrs["href"])
    elif name == "pre" and "_language" in attrs:
        out.entity(kind, start, language=attrs["_language"])
    elif name == "blockquote" and "expandable" in attrs:
        out.entity("expandable_blockquote", start)
    elif name == "tg-emoji":
        out.entity(kind, start, custom_emoji_id=attrs["emoji-id"])
    else:
        out.entity(kind, start)


def parse_markdown_v2(text: str) -> Rendered:
    """Check MarkdownV2 the way Telegram does (reserved characters, balanced markers)."""
    out = _Builder()
    stack: list[tuple[str, int, int]] = []  # (marker, UTF-16 start, index in text)
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            out.add(text[i + 1])
            i += 2
        elif ch == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = _md_find_unescaped(text, fence, i + len(fence))
            if end < 0:
                kind = "Pre" if fence == "```" else "Code"
                raise _parse_error(
                    f"Can't find end of {kind} entity at byte offset {_byte_offset(text, i)}"
                )
            body = text[i + len(fence) : end]
            if fence == "```" and "\n" in body:
                body = body.split("\n", 1)[1]  # the first line names the language
            start = out.pos
            out.add(re.sub(r"\\(.)", r"\1", body))
            out.entity("pre" if fence == "```" else "code", start)
            i = end + len(fence)
        elif ch in "*_~" or text.startswith("||", i):  # a lone "|" is reserved
            marker = text[i : i + 2] if text.startswith(("__", "||"), i) else ch
            if stack and stack[-1][0] == marker:
                _, start, _ = stack.pop()
                out.entity(_MD_KINDS[marker], start)
            else:
                stack.append((marker, out.pos, i))
            i += len(marker)
        elif ch == "[":
            stack.append(("[", out.pos, i))
            i += 1
        elif ch == "]" and stack and stack[-1][0] == "[":
            _, start, _ = stack.pop()
            i += 1
            if i < n and text[i] == "(":
                end = _md_find_unescaped(text, ")", i + 1)
                if end < 0:
                    raise _parse_error(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, i)}"
                    )
                out.entity("text_link", start, url=text[i + 1 : end].replace("\\", ""))
                i = end + 1
        elif ch == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # blockquote marker at the start of a line
        elif ch in _MD_RESERVED:
            raise _parse_error(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.add(ch)
            i += 1
    if stack:
        marker, _, index = stack[-1]
        name = _MD_NAMES.get(marker, "TextUrl")
        raise _parse_error(
            f"Can't find end of {name} entity at byte offset {_byte_offset(text, index)}"
        )
    return out.result()


def _md_find_unescaped(text: str, needle: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text.startswith(needle, i):
            return i
        else:
            i += 1
    return -1


def render_text(text: str | None, parse_mode: str | None) -> Rendered:
    """Apply ``parse_mode`` and Telegram's emptiness and length limits to a message text."""
    if not text:
        raise ContentRefused("Bad Request: message text is empty")
    mode = (parse_mode or "").lower()
    if mode == "html":
        rendered = parse_html(text)
    elif mode == "markdownv2":
        rendered = parse_markdown_v2(text)
    elif mode in ("", "markdown"):
        rendered = Rendered(text)  # legacy Markdown is not checked by the fake
    else:
        raise ContentRefused("Bad Request: unsupported parse_mode")
    if not rendered.text.strip():
        raise ContentRefused("Bad Request: message text is empty")
    if utf16_len(rendered.text) > MAX_TEXT_UTF16:
        raise ContentRefused("Bad Request: message is too long")
    return rendered


def inline_buttons(markup: dict[str, Any] | None) -> list[list[tuple[str, str]]]:
    """Validate ``reply_markup`` like Telegram; return inline buttons as (text, callback_data).

    Buttons without callback data (URL buttons and the like) get an empty data string.
    """
    if markup is None:
        return []
    if not isinstance(markup, dict):
        raise ContentRefused("Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ContentRefused(
                "Bad Request: can't parse inline keyboard: expected an array of button rows"
            )
        return [[_inline_button(b) for b in row] for row in rows]
    if "keyboard" in markup:
        for row in markup["keyboard"]:
            for button in row:
                label = button if isinstance(button, str) else button.get("text")
                if not isinstance(label, str) or not label:
                    raise ContentRefused(
                        "Bad Request: can't parse keyboard button: text must be non-empty"
                    )
        return []
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return []
    raise ContentRefused("Bad Request: can't parse reply keyboard markup JSON object")


def _inline_button(button: Any) -> tuple[str, str]:
    if not isinstance(button, dict):
        raise ContentRefused(
            "Bad Request: can't parse inline keyboard button: expected a JSON object"
        )
    label = button.get("text")
    if not isinstance(label, str) or not label.strip():
        raise ContentRefused(
            "Bad Request: can't parse inline keyboard button: text must be non-empty"
        )
    if not any(key in button for key in _BUTTON_ACTIONS):
        raise ContentRefused(
            "Bad Request: can't parse inline keyboard button: "
            "Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise ContentRefused("Bad Request: BUTTON_DATA_INVALID")
        return label, data
    url = button.get("url")
    if url is not None and not re.match(r"(https?|tg)://[^\s/]+", str(url)):
        raise ContentRefused("Bad Request: BUTTON_URL_INVALID")
    return label, ""
