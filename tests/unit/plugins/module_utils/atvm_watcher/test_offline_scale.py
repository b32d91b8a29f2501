# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deciding a run stays linear in the number of reporter artifacts (host comparisons are counted)."""
from __future__ import annotations

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.decision import rules as d
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.models import (
    COMPLETED, PASS, Counts, CypressRun, ExitInfo, HostArtifact, SpecRow,
)


class Host(str):
    """A host name that counts how often it is compared."""

    compared = 0

    def __eq__(self, other):
        Host.compared += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def _decide(n: int):
    hosts = [Host("h{0:05d}".format(i)) for i in range(n)]
    run = CypressRun(index=0, started=True, finished=True, all_passed=True, total_specs=1, cypress_version="12.17.4")
    run.specs_found = run.specs_run = ["cypress/e2e/h00000.cy.ts"]
    run.finished_rows = [SpecRow(spec="cypress/e2e/h00000.cy.ts", status="passed", counts=Counts(3, 3, 0, 0, 0))]
    run.totals = Counts(3, 3, 0, 0, 0)
    arts = [HostArtifact(path="/r/{0}.json".format(h), host=h, spec="cypress/e2e/{0}.cy.ts".format(h), status="PASS",
                         counts=Counts(3, 3, 0, 0, 0), mtime=1000.0) for h in reversed(hosts)]
    ev = d.Evidence(runs=[run], artifacts=arts, inventory={}, exit=ExitInfo(known=True, running=False, exit_code=0),
                    runner_over=True)
    Host.compared = 0
    return d.decide(ev), Host.compared


def test_host_comparisons_grow_linearly_with_the_artifacts():
    verdict, small = _decide(500)
    assert (verdict.state, verdict.result) == (COMPLETED, PASS)
    assert len(verdict.subruns[0].hosts) == 500
    assert [h.host for h in verdict.subruns[0].hosts][:2] == ["h00000", "h00499"]
    _verdict, large = _decide(4000)
    assert large <= 8 * small + 100, (small, large)  # quadratic would be 64 times as many
    assert large < 20 * 4000
