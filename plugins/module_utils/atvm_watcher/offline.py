# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline verdict: decide a finished or running run from its files, without posting anything."""
from __future__ import annotations

import os
from typing import Any, Dict, Optional

from .evidence.inventory import read_inventory
from .evidence.junit import read_junit, scan_junit_dir
from .evidence.reporter import scan_reporter_dir
from .settings import Settings
from .evidence.cypress_log import parse_log_file
from .decision.rules import Evidence, decide
from .errors import InputError
from .models import ExitInfo
from .message.attachment import build_post
from .message.markdown import render_subrun


def offline_verdict(settings: Settings, log: str, reporter_dir: Optional[str] = None, junit: Optional[str] = None,
                    inventory: Optional[str] = None, exit_code: Optional[int] = None,
                    build_name: str = "verdict") -> Dict[str, Any]:
    """The ``verdict --json`` document: state, result, reasons, subruns (with hosts, the text ``message``
    and the webhook payload ``post``)."""
    if not os.path.isfile(log):
        raise InputError(log, "no such file")
    parser = parse_log_file(log, settings.marker_regex)
    inv = read_inventory(inventory) if inventory else {}
    reports = []
    if junit:
        reports = [read_junit(junit)] if os.path.isfile(junit) else scan_junit_dir(junit, settings.junit_glob)
    artifacts = scan_reporter_dir(reporter_dir, settings) if reporter_dir else None
    if exit_code is None:
        exit_info = ExitInfo(known=False, running=False, source="cli")
    elif exit_code > 128:
        exit_info = ExitInfo(known=True, running=False, signal=exit_code - 128, source="cli")
    else:
        exit_info = ExitInfo(known=True, running=False, exit_code=exit_code, source="cli")
    ev = Evidence(runs=list(parser.runs), preamble_problems=list(parser.preamble_problems),
                  preamble_fatal=parser.preamble_fatal, artifacts=artifacts,
                  junit=reports, inventory=inv, exit=exit_info, runner_over=exit_code is not None, offline=True,
                  categorized=settings.categorized, expected_hosts=list(settings.expected_hosts),
                  host_pattern=settings.host_pattern)
    verdict = decide(ev)
    doc = verdict.to_dict()
    for sub, out in zip(verdict.subruns, doc["subruns"]):
        out["message"] = render_subrun(verdict, sub, settings, build_name, len(verdict.subruns))
        out["post"] = build_post(verdict, sub, settings, build_name, len(verdict.subruns))
    return doc
