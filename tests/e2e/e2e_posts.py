# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the delivery contract allows the channel to hold, checked on a run's posts (e2e helpers)."""
from __future__ import annotations

import json
import re
from typing import Any, Dict, Iterable, List

DUPLICATE = "possible duplicate"


def head(text: str) -> str:
    """The headline of a post (the possible-duplicate note skipped), "sub-run 2/3" read as "sub-run 2"."""
    line = next((ln for ln in text.splitlines() if ln.startswith("####")), text.splitlines()[0] if text else "")
    return re.sub(r"sub-run (\d+)/\d+", r"sub-run \1", line)


def sending_indexes(run: Any) -> List[int]:
    """Sub-run indexes (1-based) whose outbox record is in SENDING: a post a kill may have interrupted."""
    found = []
    for path in (run.state_dir / "outbox").glob("*.json"):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        number = str(record.get("key", "")).split("-", 1)[0]
        if record.get("status") == "SENDING" and number.isdigit():
            found.append(int(number) + 1)
    return sorted(found)


def assert_each_posted_once(run: Any, expected_heads: Iterable[str], interrupted: Iterable[int] = ()) -> Dict[str, List[str]]:
    """Every expected headline is in the channel exactly once, unmarked or marked; a second copy only
    for a sub-run whose post a kill interrupted between SENDING and SENT, and then it is marked."""
    by_head: Dict[str, List[str]] = {}
    for text in run.posts():
        by_head.setdefault(head(text), []).append(text)
    assert sorted(by_head) == sorted(expected_heads), sorted(by_head)
    allowed = set(interrupted)
    for line, texts in by_head.items():
        plain = [t for t in texts if DUPLICATE not in t]
        marked = [t for t in texts if DUPLICATE in t]
        assert len(plain) <= 1, (line, len(plain))
        index = int(re.search(r"sub-run (\d+)", line).group(1)) if "sub-run" in line else 1
        assert len(marked) <= (1 if index in allowed else 0), (line, len(marked), sorted(allowed))
    return by_head
