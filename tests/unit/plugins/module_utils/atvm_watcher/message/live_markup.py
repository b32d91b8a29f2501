# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Markdown text would show live to a reader: images, links, raw HTML and autolinked URLs.

The text is parsed by a CommonMark parser (markdown-it-py, with GFM tables and strikethrough,
HTML allowed) for images, links (autolinks in angle brackets included) and raw HTML. Its text
(never its code spans or code blocks) is then searched for what Mattermost's own Markdown links
without any brackets (its GFM URL rule: a scheme ``x:`` followed by ``/``, a letter, a digit or
``%``, where the server autolinks that scheme; ``www.``; ``host.tld/``; and e-mail addresses).
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator, List, Tuple

from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

_BARE = (
    ("url", re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9+.\-]*:(?:/{1,3}|[^\W_]|%)")),
    ("www", re.compile(r"(?<![A-Za-z0-9])www\d{0,3}\.")),
    ("domain", re.compile(r"(?<![A-Za-z0-9])(?:[^\W_]|[.\-])+\.[^\W\d_]{2,4}/")),
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
)


def _tokens(tokens) -> Iterator:
    for token in tokens:
        yield token
        if token.children:
            yield from _tokens(token.children)


def live_markup(text: str, allowed_links: Iterable[str] = ()) -> List[Tuple[str, str]]:
    """(kind, what) of everything in ``text`` a reader would see as an image, a link (other than
    ``allowed_links``), raw HTML or an autolinked URL."""
    allowed = [url for url in allowed_links if url]
    found: List[Tuple[str, str]] = []
    for token in _tokens(_MD.parse(text)):
        if token.type in ("html_inline", "html_block"):
            found.append(("html", token.content))
        elif token.type == "image":
            found.append(("image", str(token.attrGet("src"))))
        elif token.type == "link_open" and token.attrGet("href") not in allowed:
            found.append(("link", str(token.attrGet("href"))))
        elif token.type == "text":
            content = token.content
            for url in allowed:
                content = content.replace(url, " ")
            found.extend((kind, match.group()) for kind, pattern in _BARE for match in pattern.finditer(content))
    return found


def strings(value) -> Iterator[str]:
    """Every string of a JSON-like payload."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
