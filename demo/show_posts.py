# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the posts the Mattermost double recorded (its JSONL file) as the channel shows them.

Each post: who posted and when, the message text, then its attachment with a stripe in the
attachment's colour down the left side (and the colour named in words), the fields (short ones two
per row), the attachment text, the footer; the priority label and a line saying the post has an
info card (``props.card``), which follows, indented. ``NO_COLOR`` (or a stdout that is not a
terminal, unless ``--color``) prints the stripe without escape codes.

    python3 demo/show_posts.py POSTS.jsonl [--build NAME] [--follow] [--color]
"""
import argparse
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional

COLOR_NAMES = {"#2EB886": "green", "#D24B4E": "red", "#8D8D8D": "grey", "good": "green", "danger": "red",
               "warning": "yellow"}
_NAMED_HEX = {"good": "#2EB886", "danger": "#D24B4E", "warning": "#DAA038"}


def _bar(color: Optional[str], ansi: bool) -> str:
    hex_color = _NAMED_HEX.get(color or "", color or "")
    if ansi and len(hex_color) == 7 and hex_color.startswith("#"):
        try:
            red, green, blue = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
        except ValueError:
            return "\u2503"
        return "\x1b[38;2;{0};{1};{2}m\u2503\x1b[0m".format(red, green, blue)
    return "\u2503"


def _color_words(color: Optional[str]) -> str:
    if not color:
        return "no colour"
    name = COLOR_NAMES.get(color.upper() if color.startswith("#") else color)
    return "{0} ({1})".format(name, color) if name else color


def _fields(fields: List[Dict[str, Any]]) -> List[str]:
    """Short fields two per row, a long field on its own row (as the web app lays them out)."""
    lines: List[str] = []
    row: List[str] = []
    for field in fields:
        cell = "{0}: {1}".format(field.get("title", ""), field.get("value", ""))
        if not field.get("short"):
            if row:
                lines.append("   ".join(row).rstrip())
                row = []
            lines.append(cell)
            continue
        row.append(cell.ljust(44))
        if len(row) == 2:
            lines.append("   ".join(row).rstrip())
            row = []
    if row:
        lines.append("   ".join(row).rstrip())
    return lines


def render(post: Dict[str, Any], ansi: bool) -> str:
    stamp = (post.get("received_at") or "")[11:19]
    out = ["", "\u250c\u2500 ~{0} \u00b7 {1} \u00b7 {2} UTC".format(
        post.get("channel") or "town-square", post.get("username") or "webhook", stamp)]
    priority = (post.get("priority") or {}).get("priority")
    if priority:
        out.append("\u2502 [{0}]".format(priority.upper()))
    out.extend("\u2502 " + line for line in (post.get("text") or "").splitlines())
    for attachment in post.get("attachments") or []:
        color = attachment.get("color")
        stripe = _bar(color, ansi)
        out.append("\u2502 {0} attachment, {1}".format(stripe, _color_words(color)))
        body: List[str] = []
        for key in ("pretext", "title"):
            if attachment.get(key):
                body.append(attachment[key])
        body.extend(_fields(attachment.get("fields") or []))
        if attachment.get("text"):
            body.append("")
            body.extend(attachment["text"].splitlines())
        if attachment.get("footer"):
            body.append("")
            body.append(attachment["footer"])
        out.extend("\u2502 {0} {1}".format(stripe, line) for line in body)
    card = (post.get("props") or {}).get("card")
    if card:
        out.append("\u2502 \u24d8 info card (props.card, in the right-hand panel):")
        out.extend("\u2502     " + line for line in card.splitlines())
    out.append("\u2514\u2500")
    return "\n".join(out)


def _read(path: str) -> List[Dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except FileNotFoundError:
        return []


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="print recorded posts as the channel shows them")
    parser.add_argument("posts", help="the double's JSONL record file")
    parser.add_argument("--build", help="only the posts of this build")
    parser.add_argument("--follow", action="store_true", help="keep printing new posts until killed")
    parser.add_argument("--color", action="store_true", help="colour escapes even when stdout is not a terminal")
    args = parser.parse_args(argv)
    ansi = not os.environ.get("NO_COLOR") and (args.color or sys.stdout.isatty())
    marker = "build `{0}`".format(args.build) if args.build else None
    seen = 0
    while True:
        posts = _read(args.posts)
        for post in posts[seen:]:
            if marker is None or marker in (post.get("text") or ""):
                print(render(post, ansi), flush=True)
        seen = len(posts)
        if not args.follow:
            return 0
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
