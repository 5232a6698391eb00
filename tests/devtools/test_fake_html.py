"""The fake Bot API's content rules: HTML and MarkdownV2 parsing, lengths, keyboards."""

from __future__ import annotations

import pytest

from bot.devtools.fake_html import (
    ContentRefused,
    inline_buttons,
    parse_html,
    parse_markdown_v2,
    render_text,
    utf16_len,
)

PARSE_PREFIX = "Bad Request: can't parse entities: "


def test_simple_bold_renders_plain_text_with_entity() -> None:
    rendered = parse_html("<b>ok</b>")
    assert rendered.text == "ok"
    assert rendered.entities == [{"type": "bold", "offset": 0, "length": 2}]


def test_escaped_tags_render_literally() -> None:
    assert parse_html("&lt;b&gt; &amp; &quot;").text == '<b> & "'


def test_numeric_entities_decode() -> None:
    assert parse_html("&#123;&#x1F600;&#X41;").text == "{😀A"


def test_nested_tags_and_offsets_count_utf16() -> None:
    rendered = parse_html('😀<b>bold <i>both</i></b> <a href="https://x.test/?a=1&amp;b=2">l</a>')
    assert rendered.text == "😀bold both l"
    assert rendered.entities == [
        {"type": "bold", "offset": 2, "length": 9},
        {"type": "italic", "offset": 7, "length": 4},
        {"type": "text_link", "offset": 12, "length": 1, "url": "https://x.test/?a=1&b=2"},
    ]


def test_all_supported_tags_parse() -> None:
    text = (
        "<strong>a</strong><em>b</em><u>c</u><ins>d</ins><s>e</s><strike>f</strike><del>g</del>"
        '<span class="tg-spoiler">h</span><tg-spoiler>i</tg-spoiler><code>j</code>'
        '<pre><code class="language-python">k</code></pre><blockquote>l</blockquote>'
        '<blockquote expandable>m</blockquote><tg-emoji emoji-id="536832417">👍</tg-emoji>'
    )
    rendered = parse_html(text)
    assert rendered.text == "abcdefghijklm👍"
    kinds = [e["type"] for e in rendered.entities]
    assert kinds == [
        "bold",
        "italic",
        "underline",
        "underline",
        "strikethrough",
        "strikethrough",
        "strikethrough",
        "spoiler",
        "spoiler",
        "code",
        "pre",
        "blockquote",
        "expandable_blockquote",
        "custom_emoji",
    ]
    assert {"type": "pre", "offset": 10, "length": 1, "language": "python"} in rendered.entities


@pytest.mark.parametrize(
    ("text", "tail"),
    [
        ("a <b & c", 'Unclosed start tag "b" at byte offset 2'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("line<br>break", 'Unsupported start tag "br" at byte offset 4'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", 'Unexpected end tag "</b>" at byte offset 1'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<tg-emoji>x</tg-emoji>", 'Tag "tg-emoji" must have a numeric "emoji-id"'),
        ("&bogus;", 'Character "&" at byte offset 0 does not begin a supported HTML entity'),
        ("Q&A", 'Character "&" at byte offset 1 does not begin'),
        ("&#xD800;", 'Character "&" at byte offset 0 does not begin'),
        ("工资 &nbsp;", 'Character "&" at byte offset 7 does not begin'),
    ],
)
def test_invalid_html_is_refused(text: str, tail: str) -> None:
    with pytest.raises(ContentRefused) as info:
        parse_html(text)
    assert info.value.description.startswith(PARSE_PREFIX + tail)


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert utf16_len("a😀工") == 4


def test_text_limit_is_4096_utf16_units_after_parsing() -> None:
    assert render_text("x" * 4096, None).text == "x" * 4096
    assert render_text("<b>" + "😀" * 2048 + "</b>", "HTML").text == "😀" * 2048
    for too_long, mode in (("x" * 4097, None), ("😀" * 2048 + "x", None), ("&amp;" * 4097, "HTML")):
        with pytest.raises(ContentRefused, match="^Bad Request: message is too long$"):
            render_text(too_long, mode)


@pytest.mark.parametrize(
    ("text", "mode"), [(None, None), ("", "HTML"), ("<b></b>", "HTML"), (" \n", None)]
)
def test_empty_text_is_refused(text: str | None, mode: str | None) -> None:
    with pytest.raises(ContentRefused, match="^Bad Request: message text is empty$"):
        render_text(text, mode)


def test_no_parse_mode_means_no_parsing() -> None:
    assert render_text("a <b & c", None).text == "a <b & c"


def test_unknown_parse_mode_is_refused() -> None:
    with pytest.raises(ContentRefused, match="unsupported parse_mode"):
        render_text("x", "BBCode")


def test_markdown_v2_escaped_text_and_entities() -> None:
    rendered = parse_markdown_v2(r"*bold* _it_ __u__ ~s~ ||sp|| `c\`` [l](https://x.test) 1\.5\!")
    assert rendered.text == "bold it u s sp c` l 1.5!"
    assert [e["type"] for e in rendered.entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]


@pytest.mark.parametrize(
    ("text", "tail"),
    [
        ("Hello.", "Character '.' is reserved"),
        ("a-b", "Character '-' is reserved"),
        ("(x)", "Character '(' is reserved"),
        ("*bold", "Can't find end of Bold entity at byte offset 0"),
        ("`code", "Can't find end of Code entity at byte offset 0"),
    ],
)
def test_markdown_v2_reserved_characters_are_refused(text: str, tail: str) -> None:
    with pytest.raises(ContentRefused) as info:
        render_text(text, "MarkdownV2")
    assert info.value.description.startswith(PARSE_PREFIX + tail)


def test_inline_buttons_are_extracted() -> None:
    markup = {
        "inline_keyboard": [
            [{"text": "A", "callback_data": "a"}, {"text": "B", "callback_data": "b" * 64}],
            [{"text": "Site", "url": "https://x.test"}],
        ]
    }
    assert inline_buttons(markup) == [[("A", "a"), ("B", "b" * 64)], [("Site", "")]]
    assert inline_buttons(None) == []
    assert inline_buttons({"remove_keyboard": True}) == []


@pytest.mark.parametrize(
    ("button", "description"),
    [
        ({"text": "A", "callback_data": "x" * 65}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "A", "callback_data": "é" * 33}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "A", "callback_data": ""}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "", "callback_data": "a"}, "Bad Request: can't parse inline keyboard button: "),
        ({"text": "A"}, "Bad Request: can't parse inline keyboard button: Text buttons are"),
        ({"text": "A", "url": "not a url"}, "Bad Request: BUTTON_URL_INVALID"),
    ],
)
def test_invalid_inline_buttons_are_refused(button: dict[str, str], description: str) -> None:
    with pytest.raises(ContentRefused) as info:
        inline_buttons({"inline_keyboard": [[button]]})
    assert info.value.description.startswith(description)
