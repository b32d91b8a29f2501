# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``reading.json``: what the watcher has read of the runner log, durable so that a restart never
renumbers a sub-run (docs/architecture.md, "Per-run state directory").

It lists the files read, in order, each by who it is (:class:`~..evidence.rotation.FileKey`: device,
inode, a digest of its first bytes), and every (sub-)run found: where it began (file and offset),
its label, whether it finished, and the facts that keep a run whose text is later lost from ever
reading as PASS (the failing specs and failure texts seen). A restarted watcher gives each run it
reads again the index recorded for the same place, and decides a recorded run whose text is gone
from its other evidence.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Mapping, Optional

from ..durable import json_type
from ..evidence.rotation import FileKey

READING_SCHEMA = 1
MAX_SPECS = 50  # spec paths kept per run (the hosts of a run whose text is lost)
MAX_PROBLEMS = 5


@dataclasses.dataclass
class ReadFile:
    """One file read, as it was when first read."""

    name: str
    key: FileKey

    def to_dict(self) -> Dict[str, Any]:
        return {"name": self.name, "key": self.key.to_dict()}

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> "ReadFile":
        return cls(name=str(obj["name"]), key=FileKey.from_dict(obj["key"]))


@dataclasses.dataclass
class ReadRun:
    """One (sub-)run found in the log: its index for good, where it began, what it showed."""

    index: int
    file: Optional[int]  # position in ``files``; None when its start could not be placed
    offset: Optional[int]  # byte offset of its first line in that file
    label: Optional[str] = None
    label_source: Optional[str] = None
    finished: bool = False
    end_file: Optional[int] = None  # the file its (Run Finished) table was read in, once finished
    failed_specs: Optional[int] = None
    total_specs: Optional[int] = None
    problems: List[str] = dataclasses.field(default_factory=list)
    specs: List[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> "ReadRun":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in obj.items() if k in names})


@dataclasses.dataclass
class ReadingRecord:
    """The whole record (``reading.json``)."""

    files: List[ReadFile] = dataclasses.field(default_factory=list)
    runs: List[ReadRun] = dataclasses.field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return {"schema": READING_SCHEMA, "files": [f.to_dict() for f in self.files],
                "runs": [r.to_dict() for r in self.runs]}

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> "ReadingRecord":
        return cls(files=[ReadFile.from_dict(f) for f in obj.get("files") or []],
                   runs=sorted((ReadRun.from_dict(r) for r in obj.get("runs") or []), key=lambda r: r.index))

    @staticmethod
    def problem(obj: Dict[str, Any]) -> Optional[str]:
        """What makes ``obj`` not a reading record (the store sets such a file aside), or None."""
        for name in ("files", "runs"):
            if not isinstance(obj.get(name, []), list):
                return "{0} is {1}".format(name, json_type(obj.get(name)))
        for pos, item in enumerate(obj.get("files") or []):
            key = item.get("key") if isinstance(item, dict) else None
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(key, dict) \
                    or not isinstance(key.get("head_len"), int) or not isinstance(key.get("head_sha256"), str):
                return "files[{0}] is not a file entry".format(pos)
        count = len(obj.get("files") or [])
        for pos, item in enumerate(obj.get("runs") or []):
            if not isinstance(item, dict) or not isinstance(item.get("index"), int) or isinstance(item.get("index"), bool):
                return "runs[{0}] has no index".format(pos)
            where = item.get("file")
            if where is not None and (not isinstance(where, int) or not 0 <= where < count):
                return "runs[{0}].file is not one of the files".format(pos)
            if not isinstance(item.get("problems", []), list) or not isinstance(item.get("specs", []), list):
                return "runs[{0}] has problems or specs that are not lists".format(pos)
        return None
